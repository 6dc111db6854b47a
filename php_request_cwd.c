/* A request's own working directory (see php_request_cwd.h). Nothing is
 * done for the requests that never call chdir(). */
#include "php_request_cwd.h"
#include "php_fn_hook.h"
#include <main/php.h>

static __thread ta_cwd_state *tl_live;
static zif_handler orig_chdir;

static char *current_cwd(void)
{
    char buf[MAXPATHLEN];
    return VCWD_GETCWD(buf, sizeof buf) ? estrdup(buf) : NULL;
}

static ZEND_FUNCTION(ta_chdir)
{
    ta_cwd_state *s = tl_live;
    if (s && !s->changed) {
        s->thread_cwd = current_cwd();
        s->changed = s->thread_cwd != NULL;
    }
    orig_chdir(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

void ta_request_cwd_install(void)
{
    static const ta_fn_hook hooks[] = { { "chdir", &orig_chdir, ZEND_FN(ta_chdir) } };
    ta_hook_functions(hooks, 1);
}

void ta_request_cwd_bind(ta_cwd_state *s) { tl_live = s; }

void ta_request_cwd_swap_in(ta_cwd_state *s)
{
    if (!s->changed || !s->cwd) return;
    if (s->thread_cwd) efree(s->thread_cwd);
    s->thread_cwd = current_cwd();
    VCWD_CHDIR(s->cwd);
}

void ta_request_cwd_swap_out(ta_cwd_state *s)
{
    if (!s->changed) return;
    if (s->cwd) efree(s->cwd);
    s->cwd = current_cwd();
    if (s->thread_cwd) VCWD_CHDIR(s->thread_cwd);
}

void ta_request_cwd_free(ta_cwd_state *s)
{
    if (s->cwd) efree(s->cwd);
    if (s->thread_cwd) efree(s->thread_cwd);
    s->cwd = s->thread_cwd = NULL;
    s->changed = false;
}
