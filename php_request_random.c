/* A request's own seeded generator (see php_request_random.h). */
#include "php_request_random.h"
#include "php_fn_hook.h"
#include "ext/random/php_random.h"

static __thread ta_random_state *tl_live;
static zif_handler orig_mt_srand, orig_srand;

/* The first seeding in a request: a generator of its own from now on,
 * put in place at once (the request is the one running). */
static void own_generator(void)
{
    ta_random_state *s = tl_live;
    if (!s || s->own) return;
    s->own = true;
    s->mt = php_random_status_alloc(&php_random_algo_mt19937, false);
    s->seeded = false;
    ta_request_random_exchange(s);
}

static ZEND_FUNCTION(ta_mt_srand) { own_generator(); orig_mt_srand(INTERNAL_FUNCTION_PARAM_PASSTHRU); }
static ZEND_FUNCTION(ta_srand) { own_generator(); orig_srand(INTERNAL_FUNCTION_PARAM_PASSTHRU); }

void ta_request_random_install(void)
{
    static const ta_fn_hook hooks[] = {
        { "mt_srand", &orig_mt_srand, ZEND_FN(ta_mt_srand) },
        { "srand", &orig_srand, ZEND_FN(ta_srand) },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}

void ta_request_random_bind(ta_random_state *s) { tl_live = s; }

void ta_request_random_exchange(ta_random_state *s)
{
    if (!s->own) return;
    php_random_status *mt = RANDOM_G(mt19937);
    RANDOM_G(mt19937) = s->mt;
    s->mt = mt;
    bool seeded = RANDOM_G(mt19937_seeded);
    RANDOM_G(mt19937_seeded) = s->seeded;
    s->seeded = seeded;
}

void ta_request_random_free(ta_random_state *s)
{
    if (s->own && s->mt) php_random_status_free(s->mt, false);
    s->mt = NULL;
    s->own = false;
}
