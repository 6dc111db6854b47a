/* Signal events: delivery to the loop (raise and kill to self), repeat
 * delivery, two watchers of one signal, bad signal numbers, dispose with
 * callbacks attached. SIGUSR1/SIGUSR2 are only raised while watched. */
#include "harness.h"

#include <signal.h>
#include <unistd.h>

static void test_delivery(void)
{
    rec r = {0};
    zend_async_signal_event_t *s = ZEND_ASYNC_NEW_SIGNAL_EVENT(SIGUSR1);
    zend_async_event_t *e = &s->base;
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    raise(SIGUSR1);
    RUN_UNTIL(r.calls > 0, 3000);
    tap_ok(r.calls == 1 && r.result == &s->signal && *(int *) r.result == SIGUSR1 && r.exception == NULL,
           "raise(SIGUSR1) is delivered to the loop with the signal number as result");
    kill(getpid(), SIGUSR1);
    RUN_UNTIL(r.calls > 1, 3000);
    tap_ok(r.calls == 2 && !ZEND_ASYNC_EVENT_IS_CLOSED(e), "kill() to self is delivered again: signal events repeat");

    rec o = {0};
    zend_async_event_t *e2 = &ZEND_ASYNC_NEW_SIGNAL_EVENT(SIGUSR1)->base;
    e2->add_callback(e2, rec_callback(&o));
    e2->start(e2);
    raise(SIGUSR1);
    RUN_UNTIL(r.calls > 2 && o.calls > 0, 3000);
    tap_ok(r.calls == 3 && o.calls == 1, "two watchers of one signal both hear it");
    ZEND_ASYNC_EVENT_RELEASE(e2);
    raise(SIGUSR1);
    RUN_UNTIL(r.calls > 3, 3000);
    tap_ok(r.calls == 4 && o.calls == 1, "disposing one watcher leaves the other working");
    ZEND_ASYNC_EVENT_RELEASE(e);
}

static void test_bad_signal(void)
{
    zend_async_signal_event_t *s = ZEND_ASYNC_NEW_SIGNAL_EVENT(0);
    zend_object *ex = take_exception();
    tap_ok(s == NULL && is_instance(ex, zend_ce_error) && contains(exception_message(ex), "invalid argument"),
           "signal 0 throws Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
    s = ZEND_ASYNC_NEW_SIGNAL_EVENT(100000);
    ex = take_exception();
    tap_ok(s == NULL && is_instance(ex, zend_ce_error), "signal 100000 throws Error");
    if (ex) OBJ_RELEASE(ex);
}

static void test_dispose_attached(void)
{
    rec keep = {0}, a = {0}, b = {0};
    /* A second watcher keeps SIGUSR2 handled after the first goes. */
    zend_async_event_t *guard = &ZEND_ASYNC_NEW_SIGNAL_EVENT(SIGUSR2)->base;
    guard->add_callback(guard, rec_callback(&keep));
    guard->start(guard);
    zend_async_event_t *e = &ZEND_ASYNC_NEW_SIGNAL_EVENT(SIGUSR2)->base;
    e->add_callback(e, rec_callback(&a));
    e->add_callback(e, rec_callback(&b));
    e->start(e);
    ZEND_ASYNC_EVENT_RELEASE(e);
    raise(SIGUSR2);
    RUN_UNTIL(keep.calls > 0, 3000);
    tap_ok(a.disposed == 1 && b.disposed == 1 && a.calls == 0 && b.calls == 0 && keep.calls == 1,
           "a signal event disposed with callbacks attached frees them and hears nothing more");
    ZEND_ASYNC_EVENT_RELEASE(guard);
}

static void body(void)
{
    tap_plan(7);
    test_delivery();
    test_bad_signal();
    test_dispose_attached();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
