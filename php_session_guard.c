/* Sessions are not per request yet: PHP's session module keeps one state
 * per thread, so a session started by one request would be seen by every
 * other request on its thread (another user's $_SESSION). Until that state
 * follows the coroutine, starting a session inside a request is refused. */
#include "php_common.h"
#include "php_fn_hook.h"
#include "php_session_guard.h"
#include "scheduler.h"

static zif_handler orig_session_start;

static ZEND_FUNCTION(ta_session_start)
{
    if (ta_coro_current()) {
        zend_throw_error(NULL, "session_start() is not available inside a TrueAsync request yet: PHP's "
                         "session state is shared by every request of the thread; keep session data "
                         "in your own store keyed by a cookie");
        RETURN_THROWS();
    }
    orig_session_start(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

void ta_session_guard_install(void)
{
    static const ta_fn_hook hooks[] = { { "session_start", &orig_session_start, zif_ta_session_start } };
    ta_hook_functions(hooks, 1);
}
