/* The Async\ API's base: the interfaces Awaitable and Completable and the
 * functions spawn, protect, current_coroutine, get_coroutines, timeout,
 * delay and suspend (stubs/php_async_api.stub.php). */
#include "php_async_objects.h"
#include "php_async_register.h"
#include "php_async_scope.h"
#include "coro_wait.h"
#include <zend_closures.h>
#include "reactor_apr.h"

#include <errno.h>
#include <time.h>
#include "stubs/php_async_api_arginfo.h"

zend_class_entry *ta_ce_awaitable, *ta_ce_completable;

/* {{{ Async\spawn(callable $task, mixed ...$args): Coroutine */
ZEND_FUNCTION(Async_spawn)
{
    zval *callable, *args = NULL;
    uint32_t argc = 0;
    ZEND_PARSE_PARAMETERS_START(1, -1)
        Z_PARAM_ZVAL(callable)
        Z_PARAM_VARIADIC('*', args, argc)
    ZEND_PARSE_PARAMETERS_END();
    if (!zend_is_callable(callable, 0, NULL)) {
        zend_argument_type_error(1, "must be a valid callback");
        RETURN_THROWS();
    }
    ta_sched *s = ta_sched_current;
    if (!s) {
        zend_throw_error(NULL, "Async\\spawn() needs a TrueAsync worker thread");
        RETURN_THROWS();
    }
    /* A coroutine spawned while handling a request belongs to its scope. */
    zend_object *scope = s->current ? s->current->scope : NULL;
    ta_coro *co = ta_sched_spawn(s, callable, argc, args, scope, NULL);
    if (!co) RETURN_THROWS();
    ta_scope_adopt_spawned(s->current, co, NULL);
    RETURN_OBJ_COPY(ta_coroutine_handle(co, true));
}

/* {{{ Async\protect(\Closure $closure): mixed
 * Runs $closure with cancellation held off: a cancel() meanwhile lets it
 * finish (its waits go on) and is thrown when it returns. */
ZEND_FUNCTION(Async_protect)
{
    zval *closure;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(closure, zend_ce_closure)
    ZEND_PARSE_PARAMETERS_END();
    ta_coro *co = ta_coro_current();
    if (co) co->protect++;
    call_user_function(NULL, NULL, closure, return_value, 0, NULL);
    if (!co) return;
    co->protect--;
    if (!co->protect && !EG(exception) && ta_coro_throw_pending_cancel()) {
        zval_ptr_dtor(return_value);
        ZVAL_UNDEF(return_value);
    }
}

/* {{{ Async\current_coroutine(): Coroutine */
ZEND_FUNCTION(Async_current_coroutine)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_exception(ta_ce_async_exception, "The current coroutine is not defined", 0);
        RETURN_THROWS();
    }
    RETURN_OBJ_COPY(ta_coroutine_handle(co, false));
}

/* {{{ Async\get_coroutines(): array — every coroutine of this thread not finished yet */
ZEND_FUNCTION(Async_get_coroutines)
{
    ZEND_PARSE_PARAMETERS_NONE();
    array_init(return_value);
    ta_sched *s = ta_sched_current;
    if (!s) return;
    for (ta_coro *co = s->all; co; co = co->next) {
        if (co->state == TA_CORO_DONE) continue;
        zend_object *h = ta_coroutine_handle(co, false);
        GC_ADDREF(h);
        add_next_index_object(return_value, h);
    }
}

/* {{{ Async\timeout(int $ms): Awaitable — completes (with TimeoutException) after $ms */
ZEND_FUNCTION(Async_timeout)
{
    zend_long ms;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(ms)
    ZEND_PARSE_PARAMETERS_END();
    if (ms <= 0) {
        zend_value_error("Timeout value must be greater than 0");     /* php-async's words */
        RETURN_THROWS();
    }
    object_init_ex(return_value, ta_ce_timeout);
    if (!ta_timeout_arm(TIMEOUT_OBJ(Z_OBJ_P(return_value)), ms)) { zval_ptr_dtor(return_value); ZVAL_NULL(return_value); RETURN_THROWS(); }
}

/* ---- delay and suspend ------------------------------------------------------------ */

/* {{{ Async\delay(int $ms): void */
ZEND_FUNCTION(Async_delay)
{
    zend_long ms;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(ms)
    ZEND_PARSE_PARAMETERS_END();
    if (ms < 0) {
        zend_argument_value_error(1, "must be greater than or equal to 0");
        RETURN_THROWS();
    }
    ta_coro *co = ta_coro_current();
    if (!co) {
        /* Outside a coroutine (worker boot) it blocks, like usleep(). */
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        return;
    }
    if (ms == 0) {
        /* a plain yield */
        co->state = TA_CORO_SUSPENDED;
        ta_coro_wake(co);
        ta_coro_wait(NULL, NULL);
        return;
    }
    if (!ta_async_loop_ok()) RETURN_THROWS();
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT((zend_ulong) ms, false);
    if (!t) RETURN_THROWS();
    ta_coro_wait_event(&t->base);
    ZEND_ASYNC_EVENT_RELEASE(&t->base);
}

/* {{{ Async\suspend(): void — lets the other ready coroutines run */
ZEND_FUNCTION(Async_suspend)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_coro *co = ta_coro_current();
    if (!co) return;
    co->state = TA_CORO_SUSPENDED;
    ta_coro_wake(co);
    ta_coro_wait(NULL, NULL);
}

/* ---- registration ------------------------------------------------------------ */

void ta_async_api_register(void)
{
    ta_ce_awaitable = register_class_Async_Awaitable();
    ta_ce_completable = register_class_Async_Completable(ta_ce_awaitable);
    zend_register_functions(NULL, ext_functions, NULL, MODULE_PERSISTENT);
}
