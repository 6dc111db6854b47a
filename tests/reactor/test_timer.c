/* Timer events: one-shot timing and closing, firing order, nanosecond
 * rounding, periodic repeat, stop, dispose with callbacks attached. */
#include "harness.h"

#include <pthread.h>
#include <unistd.h>

static int order[8];
static int n_order;

static void note_order(rec *r, zend_async_event_t *event, void *result, zend_object *ex)
{
    (void) event; (void) result; (void) ex;
    order[n_order++] = (int) (intptr_t) r->ctx;
}

static void test_one_shot(void)
{
    rec r = {0};
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT(30, false);
    zend_async_event_t *e = &t->base;
    e->add_callback(e, rec_callback(&r));
    uint64_t t0 = uv_hrtime();
    e->start(e);
    RUN_UNTIL(r.calls > 0, 3000);
    uint64_t ms = (uv_hrtime() - t0) / 1000000u;
    /* libuv's loop clock may be up to 1 ms coarse. */
    tap_ok(r.calls == 1 && ms >= 28 && r.result == NULL && r.exception == NULL,
           "a 30 ms timer fires once, after %llu ms, with no result or exception", (unsigned long long) ms);
    tap_ok(ZEND_ASYNC_EVENT_IS_CLOSED(e) && e->loop_ref_count == 0, "a one-shot timer is closed and stopped after firing");
    e->start(e);
    RUN_FOR(60);
    tap_ok(r.calls == 1 && e->loop_ref_count == 0, "starting it again does nothing");
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_is_int(r.disposed, 1, "its callback is disposed with it");
}

static void test_order(void)
{
    static const int ms[] = { 30, 10, 20, 1 };
    rec r[4] = {{0}};
    zend_async_event_t *e[4];
    n_order = 0;
    for (int i = 0; i < 4; i++) {
        e[i] = &ZEND_ASYNC_NEW_TIMER_EVENT(ms[i], false)->base;
        r[i].hook = note_order;
        r[i].ctx = (void *) (intptr_t) ms[i];
        e[i]->add_callback(e[i], rec_callback(&r[i]));
        e[i]->start(e[i]);
    }
    RUN_UNTIL(n_order == 4, 3000);
    tap_ok(n_order == 4 && order[0] == 1 && order[1] == 10 && order[2] == 20 && order[3] == 30,
           "timers started as 30, 10, 20, 1 ms fire in order 1, 10, 20, 30 (got %d %d %d %d)",
           order[0], order[1], order[2], order[3]);
    for (int i = 0; i < 4; i++) ZEND_ASYNC_EVENT_RELEASE(e[i]);
}

/* The only active timer on the loop is the one under test. */
static void find_period(uv_handle_t *h, void *arg)
{
    if (h->type == UV_TIMER && uv_is_active(h)) *(uint64_t *) arg = uv_timer_get_repeat((uv_timer_t *) h);
}

static void test_nanoseconds(void)
{
    rec r = {0};
    /* 0 ms + 2.5 ms in nanoseconds rounds up to 3 ms, never down. */
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT_EX(0, 2500000, false, 0);
    zend_async_event_t *e = &t->base;
    e->add_callback(e, rec_callback(&r));
    uint64_t t0 = uv_hrtime();
    e->start(e);
    RUN_UNTIL(r.calls > 0, 3000);
    uint64_t us = (uv_hrtime() - t0) / 1000u;
    tap_ok(r.calls == 1 && us >= 2000 && t->nanoseconds == 2500000,
           "0 ms + 2500000 ns fires after %llu us", (unsigned long long) us);
    ZEND_ASYNC_EVENT_RELEASE(e);

    /* The exact rounding shows in a periodic timer's libuv period. */
    e = &ZEND_ASYNC_NEW_TIMER_EVENT_EX(0, 2500000, true, 0)->base;
    e->start(e);
    uint64_t period = 0;
    uv_walk(ta_reactor_loop(), find_period, &period);
    e->stop(e);
    tap_is_int(period, 3, "0 ms + 2500000 ns is a 3 ms period (rounded up)");
    ZEND_ASYNC_EVENT_RELEASE(e);
    e = &ZEND_ASYNC_NEW_TIMER_EVENT_EX(7, 1000000, true, 0)->base;
    e->start(e);
    uv_walk(ta_reactor_loop(), find_period, &period);
    e->stop(e);
    tap_is_int(period, 8, "7 ms + exactly 1 ms in nanoseconds is 8 ms");
    ZEND_ASYNC_EVENT_RELEASE(e);

    rec z = {0};
    e = &ZEND_ASYNC_NEW_TIMER_EVENT_EX(0, 1, false, 0)->base;
    e->add_callback(e, rec_callback(&z));
    e->start(e);
    tap_ok(RUN_UNTIL(z.calls == 1, 3000), "a 1 ns timer fires (rounded up to 1 ms)");
    ZEND_ASYNC_EVENT_RELEASE(e);
}

static void test_periodic(void)
{
    rec r = {0};
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT(5, true);
    zend_async_event_t *e = &t->base;
    e->add_callback(e, rec_callback(&r));
    uint64_t t0 = uv_hrtime();
    e->start(e);
    RUN_UNTIL(r.calls >= 3, 3000);
    uint64_t ms = (uv_hrtime() - t0) / 1000000u;
    tap_ok(r.calls >= 3 && ms >= 12, "a 5 ms periodic timer repeats (3 calls in %llu ms)", (unsigned long long) ms);
    tap_ok(!ZEND_ASYNC_EVENT_IS_CLOSED(e) && e->loop_ref_count == 1, "a periodic timer stays open and active");
    e->stop(e);
    int calls = r.calls;
    RUN_FOR(30);
    tap_ok(r.calls == calls && e->loop_ref_count == 0, "after stop it fires no more");
    e->start(e);
    tap_ok(RUN_UNTIL(r.calls > calls, 3000), "started again, it repeats again");
    ZEND_ASYNC_EVENT_RELEASE(e);
}

static void stop_self(rec *r, zend_async_event_t *event, void *result, zend_object *ex)
{
    (void) result; (void) ex;
    if (r->calls == 2) event->stop(event);
}

static void test_stop(void)
{
    rec r = {0};
    zend_async_event_t *e = &ZEND_ASYNC_NEW_TIMER_EVENT(10, false)->base;
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    e->stop(e);
    RUN_FOR(40);
    tap_ok(r.calls == 0 && !ZEND_ASYNC_EVENT_IS_CLOSED(e), "a timer stopped before its time never fires");
    e->start(e);
    tap_ok(RUN_UNTIL(r.calls == 1, 3000), "and can still be started");
    ZEND_ASYNC_EVENT_RELEASE(e);

    rec p = {0};
    p.hook = stop_self;
    e = &ZEND_ASYNC_NEW_TIMER_EVENT(2, true)->base;
    e->add_callback(e, rec_callback(&p));
    e->start(e);
    RUN_UNTIL(p.calls >= 2, 3000);
    RUN_FOR(20);
    tap_ok(p.calls == 2 && e->loop_ref_count == 0, "a periodic timer can stop itself from its callback");
    ZEND_ASYNC_EVENT_RELEASE(e);
}

static void test_dispose_attached(void)
{
    rec a = {0}, b = {0};
    uint32_t base = ZEND_ASYNC_ACTIVE_EVENT_COUNT;
    zend_async_event_t *e = &ZEND_ASYNC_NEW_TIMER_EVENT(5, true)->base;
    e->add_callback(e, rec_callback(&a));
    e->add_callback(e, rec_callback(&b));
    e->start(e);
    RUN_UNTIL(a.calls >= 1, 3000);
    ZEND_ASYNC_EVENT_RELEASE(e);
    int calls = a.calls;
    RUN_FOR(20);
    tap_ok(a.disposed == 1 && b.disposed == 1 && a.calls == calls && ZEND_ASYNC_ACTIVE_EVENT_COUNT == base,
           "disposing a running periodic timer with two callbacks attached frees both, nothing fires after");
}

typedef struct {
    int fd;
    int done;   /* atomic */
} watchdog;

/* Unblocks a hung execute() after 2 s by making the pipe readable. */
static void *watchdog_main(void *arg)
{
    watchdog *w = arg;
    for (int i = 0; i < 200 && !__atomic_load_n(&w->done, __ATOMIC_ACQUIRE); i++) usleep(10000);
    if (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) && write(w->fd, "x", 1) != 1) perror("watchdog");
    return NULL;
}

static void test_execute_due(void)
{
    int p[2];
    if (pipe(p) != 0) { tap_ok(0, "pipe"); return; }
    /* An I/O watcher that never fires keeps the loop alive without timers. */
    zend_async_event_t *idle = &ZEND_ASYNC_NEW_POLL_EVENT(p[0], ZEND_SOCKET_INVALID, ASYNC_READABLE)->base;
    idle->start(idle);
    rec r = {0};
    zend_async_event_t *e = &ZEND_ASYNC_NEW_TIMER_EVENT(1, false)->base;
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    usleep(5000);   /* due now, but the loop's clock does not know yet */
    watchdog w = { p[1], 0 };
    pthread_t th;
    pthread_create(&th, NULL, watchdog_main, &w);
    uint64_t t0 = now_ms();
    ZEND_ASYNC_REACTOR_EXECUTE(false);
    uint64_t ms = now_ms() - t0;
    __atomic_store_n(&w.done, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    tap_ok(r.calls == 1 && ms < 1000,
           "execute() with a timer already due delivers it and returns without waiting for I/O (%llu ms)",
           (unsigned long long) ms);
    ZEND_ASYNC_EVENT_RELEASE(e);
    ZEND_ASYNC_EVENT_RELEASE(idle);
    close(p[0]);
    close(p[1]);
}

static void body(void)
{
    tap_plan(18);
    test_one_shot();
    test_order();
    test_nanoseconds();
    test_periodic();
    test_stop();
    test_dispose_attached();
    test_execute_due();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
