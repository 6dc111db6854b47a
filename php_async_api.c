/* The Async\ functions (spawn, await, await_all, await_any_or_fail,
 * timeout, delay, suspend), and the registration of the functions and
 * classes; the classes' methods are php_async_coroutine.c's and
 * php_async_channel.c's. */
#include "php_async_objects.h"
#include "php_async_api.h"
#include "php_async_scope.h"
#include "coro_wait.h"
#include <zend_closures.h>
#include "reactor_apr.h"

#include <errno.h>
#include <time.h>

zend_class_entry *ta_ce_awaitable, *ta_ce_completable, *ta_ce_coroutine, *ta_ce_timeout;

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

/* ---- arginfo and registration ------------------------------------------------------------ */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_delay, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, ms, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_finalizer, 0, 3, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, callbacks, IS_ARRAY, 0)
    ZEND_ARG_TYPE_INFO(0, subject, IS_OBJECT, 0)
    ZEND_ARG_OBJ_INFO(0, scope, Async\\Scope, 1)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_void, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_spawn, 0, 1, Async\\Coroutine, 0)
    ZEND_ARG_TYPE_INFO(0, task, IS_CALLABLE, 0)
    ZEND_ARG_VARIADIC_TYPE_INFO(0, args, IS_MIXED, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await, 0, 1, IS_MIXED, 0)
    ZEND_ARG_OBJ_INFO(0, awaitable, Async\\Completable, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Completable, 1, "null")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_timeout, 0, 1, Async\\Awaitable, 0)
    ZEND_ARG_TYPE_INFO(0, ms, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await_all, 0, 1, IS_ARRAY, 0)
    ZEND_ARG_TYPE_INFO(0, triggers, IS_ITERABLE, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, preserveKeyOrder, _IS_BOOL, 0, "true")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, fillNull, _IS_BOOL, 0, "false")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await_any, 0, 1, IS_MIXED, 0)
    ZEND_ARG_TYPE_INFO(0, triggers, IS_ITERABLE, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await_all_or_fail, 0, 1, IS_ARRAY, 0)
    ZEND_ARG_TYPE_INFO(0, triggers, IS_ITERABLE, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, preserveKeyOrder, _IS_BOOL, 0, "true")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await_any_of, 0, 2, IS_ARRAY, 0)
    ZEND_ARG_TYPE_INFO(0, count, IS_LONG, 0)
    ZEND_ARG_TYPE_INFO(0, triggers, IS_ITERABLE, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, preserveKeyOrder, _IS_BOOL, 0, "true")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, fillNull, _IS_BOOL, 0, "false")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await_any_of_or_fail, 0, 2, IS_ARRAY, 0)
    ZEND_ARG_TYPE_INFO(0, count, IS_LONG, 0)
    ZEND_ARG_TYPE_INFO(0, triggers, IS_ITERABLE, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, preserveKeyOrder, _IS_BOOL, 0, "true")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_protect, 0, 1, IS_MIXED, 0)
    ZEND_ARG_OBJ_INFO(0, closure, Closure, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_current_coroutine, 0, 0, Async\\Coroutine, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_array, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_spawn_with, 0, 2, Async\\Coroutine, 0)
    ZEND_ARG_OBJ_INFO(0, provider, Async\\ScopeProvider, 0)
    ZEND_ARG_TYPE_INFO(0, task, IS_CALLABLE, 0)
    ZEND_ARG_VARIADIC_TYPE_INFO(0, args, IS_MIXED, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_context, 0, 0, Async\\Context, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_ncontext, 0, 0, Async\\Context, 1)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_int_fn, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_narray, 0, 0, IS_ARRAY, 1)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_signal, 0, 1, Async\\Future, 0)
    ZEND_ARG_OBJ_INFO(0, signal, Async\\Signal, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Completable, 1, "null")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_iterate, 0, 2, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, iterable, IS_ITERABLE, 0)
    ZEND_ARG_TYPE_INFO(0, callback, IS_CALLABLE, 0)
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, concurrency, IS_LONG, 0, "0")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, cancelPending, _IS_BOOL, 0, "true")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_graceful, 0, 0, IS_VOID, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellationError, Async\\AsyncCancellation, 1, "null")
ZEND_END_ARG_INFO()

const zend_function_entry ta_async_functions[] = {
    ZEND_NS_FALIAS("Async", spawn, Async_spawn, ai_spawn)
    ZEND_NS_FALIAS("Async", await, Async_await, ai_await)
    ZEND_NS_FALIAS("Async", suspend, Async_suspend, ai_void)
    ZEND_NS_FALIAS("Async", delay, Async_delay, ai_delay)
    ZEND_NS_FALIAS("Async", timeout, Async_timeout, ai_timeout)
    ZEND_NS_FALIAS("Async", await_all, Async_await_all, ai_await_all)
    ZEND_NS_FALIAS("Async", await_any_or_fail, Async_await_any_or_fail, ai_await_any)
    ZEND_NS_FALIAS("Async", await_all_or_fail, Async_await_all_or_fail, ai_await_all_or_fail)
    ZEND_NS_FALIAS("Async", await_first_success, Async_await_first_success, ai_await_any)
    ZEND_NS_FALIAS("Async", await_any_of, Async_await_any_of, ai_await_any_of)
    ZEND_NS_FALIAS("Async", await_any_of_or_fail, Async_await_any_of_or_fail, ai_await_any_of_or_fail)
    ZEND_NS_FALIAS("Async", current_coroutine, Async_current_coroutine, ai_current_coroutine)
    ZEND_NS_FALIAS("Async", protect, Async_protect, ai_protect)
    ZEND_NS_FALIAS("Async", get_coroutines, Async_get_coroutines, ai_array)
    ZEND_NS_FALIAS("Async", spawn_with, Async_spawn_with, ai_spawn_with)
    ZEND_NS_FALIAS("Async", current_context, Async_current_context, ai_context)
    ZEND_NS_FALIAS("Async", coroutine_context, Async_coroutine_context, ai_context)
    ZEND_NS_FALIAS("Async", root_context, Async_root_context, ai_context)
    ZEND_NS_FALIAS("Async", request_context, Async_request_context, ai_ncontext)
    ZEND_NS_FALIAS("Async", available_parallelism, Async_available_parallelism, ai_int_fn)
    ZEND_NS_FALIAS("Async", runtime_stats, Async_runtime_stats, ai_array)
    ZEND_NS_FALIAS("Async", cpu_usage, Async_cpu_usage, ai_array)
    ZEND_NS_FALIAS("Async", loadavg, Async_loadavg, ai_narray)
    ZEND_NS_FALIAS("Async", signal, Async_signal, ai_signal)
    ZEND_NS_FALIAS("Async", iterate, Async_iterate, ai_iterate)
    ZEND_NS_FALIAS("Async", graceful_shutdown, Async_graceful_shutdown, ai_graceful)
    ZEND_FE_END
};

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_string, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_get_trace, 0, 0, IS_ARRAY, 1)
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_LONG, 0, "DEBUG_BACKTRACE_PROVIDE_OBJECT")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, limit, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_finally, 0, 1, IS_VOID, 0)
    ZEND_ARG_OBJ_INFO(0, callback, Closure, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_int, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_bool, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_mixed, 0, 0, IS_MIXED, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_cancel, 0, 0, IS_VOID, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\AsyncCancellation, 1, "null")
ZEND_END_ARG_INFO()

static const zend_function_entry coroutine_methods[] = {
    ZEND_ME(Async_Coroutine, getId, ai_int, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isFinished, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isCancelled, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isCompleted, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isStarted, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isQueued, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isRunning, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isSuspended, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isCancellationRequested, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getSpawnFileAndLine, ai_array, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getSpawnLocation, ai_string, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getSuspendFileAndLine, ai_array, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getSuspendLocation, ai_string, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, finally, ai_finally, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getTrace, ai_get_trace, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getContext, ai_context, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getAwaitingInfo, ai_array, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, asHiPriority, ai_current_coroutine, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getResult, ai_mixed, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getException, ai_mixed, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, cancel, ai_cancel, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, runner, ai_void, ZEND_ACC_PRIVATE | ZEND_ACC_STATIC)
    ZEND_ME(Async_Coroutine, finalizer, ai_finalizer, ZEND_ACC_PRIVATE | ZEND_ACC_STATIC)
    ZEND_FE_END
};

static const zend_function_entry completable_methods[] = {
    ZEND_ABSTRACT_ME_WITH_FLAGS(Async_Completable, cancel, ai_cancel, ZEND_ACC_PUBLIC | ZEND_ACC_ABSTRACT)
    ZEND_ABSTRACT_ME_WITH_FLAGS(Async_Completable, isCompleted, ai_bool, ZEND_ACC_PUBLIC | ZEND_ACC_ABSTRACT)
    ZEND_ABSTRACT_ME_WITH_FLAGS(Async_Completable, isCancelled, ai_bool, ZEND_ACC_PUBLIC | ZEND_ACC_ABSTRACT)
    ZEND_FE_END
};

static const zend_function_entry timeout_methods[] = {
    ZEND_ME(Async_Timeout, cancel, ai_cancel, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Timeout, isCompleted, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Timeout, isCancelled, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_FE_END
};


void ta_async_api_register(void)
{
    zend_class_entry ce;
    INIT_NS_CLASS_ENTRY(ce, "Async", "Awaitable", NULL);
    ta_ce_awaitable = zend_register_internal_interface(&ce);
    INIT_NS_CLASS_ENTRY(ce, "Async", "Completable", completable_methods);
    ta_ce_completable = zend_register_internal_interface(&ce);
    zend_class_implements(ta_ce_completable, 1, ta_ce_awaitable);

    /* Coroutine and Timeout objects only come from spawn() and timeout(). */
    ta_ce_coroutine = ta_class_register_final("Async\\Coroutine", coroutine_methods, ta_coroutine_create,
                                              &ta_h_coroutine, XtOffsetOf(ta_coro_obj, std), ta_coroutine_free, true);
    zend_class_implements(ta_ce_coroutine, 1, ta_ce_completable);
    ta_sched_set_runner_function(zend_hash_str_find_ptr(&ta_ce_coroutine->function_table, ZEND_STRL("runner")));
    ta_sched_set_handle_done(ta_spawned_done);
    ta_finally_register();
    ta_scope_register();
    ta_future_register();
    ta_taskgroup_register();
    ta_runtime_register();
    ta_pool_register();
    ta_fswatch_register();

    ta_ce_timeout = ta_class_register_final("Async\\Timeout", timeout_methods, ta_timeout_create,
                                            &ta_h_timeout, XtOffsetOf(ta_timeout_obj, std), ta_timeout_free, true);
    zend_class_implements(ta_ce_timeout, 1, ta_ce_completable);

    ta_channel_register();
}
