#include "php_async_api.h"
#include "scheduler.h"

#include <zend_exceptions.h>
#include <errno.h>
#include <time.h>

zend_class_entry *ta_ce_cancellation_error;
zend_class_entry *ta_ce_timeout_exception;

/* ---- waiting on a libuv timer ------------------------------------------- */

typedef struct ta_delay {
    uv_timer_t timer;           /* first: the handle pointer is the struct */
    ta_coro *co;
} ta_delay;

static void delay_closed(uv_handle_t *h) { free(h); }

static void delay_fired(uv_timer_t *t)
{
    ta_delay *d = (ta_delay *) t;
    ta_coro *co = d->co;
    uv_close((uv_handle_t *) t, delay_closed);
    if (co) ta_coro_wake(co);
}

static void delay_cancel(ta_coro *co, void *data)
{
    (void) co;
    ta_delay *d = data;
    d->co = NULL;
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *) &d->timer, delay_closed);
}

static void ready_again(ta_coro *co, void *data) { (void) co; (void) data; }

/* Puts the current coroutine to sleep for ms milliseconds. */
static zend_result coro_sleep_ms(zend_long ms)
{
    ta_coro *co = ta_coro_current();
    ta_sched *s = ta_sched_current;
    if (ms == 0) {
        /* a plain yield: back of the ready queue */
        co->state = TA_CORO_SUSPENDED;
        ta_coro_wake(co);
        return ta_coro_wait(ready_again, NULL);
    }
    ta_delay *d = malloc(sizeof *d);
    if (!d) { zend_throw_error(NULL, "Out of memory"); return FAILURE; }
    uv_timer_init(s->loop, &d->timer);
    d->co = co;
    uv_update_time(s->loop);
    uv_timer_start(&d->timer, delay_fired, (uint64_t) ms, 0);
    zend_result rc = ta_coro_wait(delay_cancel, d);
    return rc;
}

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
    if (!ta_coro_current()) {
        /* Outside a coroutine (worker boot) it blocks, like usleep(). */
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        return;
    }
    coro_sleep_ms(ms);
}

/* {{{ Async\suspend(): void — lets the other ready coroutines run */
ZEND_FUNCTION(Async_suspend)
{
    ZEND_PARSE_PARAMETERS_NONE();
    if (!ta_coro_current()) return;
    coro_sleep_ms(0);
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_async_delay, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, ms, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_async_suspend, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()

const zend_function_entry ta_async_functions[] = {
    ZEND_NS_FALIAS("Async", delay, Async_delay, arginfo_async_delay)
    ZEND_NS_FALIAS("Async", suspend, Async_suspend, arginfo_async_suspend)
    ZEND_FE_END
};

void ta_async_api_register(void)
{
    zend_class_entry ce;
    INIT_NS_CLASS_ENTRY(ce, "Async", "CancellationError", NULL);
    ta_ce_cancellation_error = zend_register_internal_class_ex(&ce, zend_ce_error);
    INIT_NS_CLASS_ENTRY(ce, "Async", "TimeoutException", NULL);
    ta_ce_timeout_exception = zend_register_internal_class_ex(&ce, zend_ce_exception);
}
