/* The event contract shared by every type: registry, reference counting,
 * extra data, the callback vector, start/stop counting, dispose with
 * callbacks attached, shutdown and abandon. Timer events are the vehicle. */
#include "harness.h"

#include <stddef.h>
#include <string.h>

static zend_async_event_t *timer(zend_ulong ms)
{
    return &ZEND_ASYNC_NEW_TIMER_EVENT(ms, false)->base;
}

static void test_registry(void)
{
    zend_async_reactor_api_t *r = &zend_async_reactor;
    tap_ok(zend_async_reactor_is_enabled() && strcmp(r->module, "mod_trueasync") == 0,
           "the reactor is registered as mod_trueasync");
    bool all = r->startup && r->shutdown && r->execute && r->loop_alive && r->new_socket_event
        && r->new_poll_event && r->new_timer_event && r->new_signal_event && r->new_process_event
        && r->new_thread_event && r->new_filesystem_event && r->getnameinfo && r->getaddrinfo
        && r->freeaddrinfo && r->new_exec_event && r->exec;
    tap_ok(all, "all 16 function slots are filled");
    tap_ok(!ta_reactor_register(), "a second registration without allow_override is refused");
    zend_async_reactor_startup_t startup = r->startup;
    bool taken = zend_async_reactor_register("half", true, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    tap_ok(!taken && r->startup == startup, "a registration with empty slots is refused, the old one stays");
    uv_loop_t *loop = ta_reactor_loop();
    tap_ok(loop != NULL && ZEND_ASYNC_REACTOR_STARTUP() && ta_reactor_loop() == loop,
           "startup gives the thread a loop, and a second startup keeps it");
    tap_ok(!ZEND_ASYNC_REACTOR_EXECUTE(true) && !ZEND_ASYNC_REACTOR_LOOP_ALIVE(),
           "execute(no_wait) on an idle loop returns at once, loop not alive");
}

static void test_extra(void)
{
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT_EX(10, 0, false, 100);
    zend_async_event_t *e = &t->base;
    tap_ok(e->extra_offset >= sizeof(zend_async_timer_event_t)
           && e->extra_offset % _Alignof(max_align_t) == 0,
           "extra_offset lies past the event struct, aligned (%u)", e->extra_offset);
    unsigned char *x = ZEND_ASYNC_EVENT_EXTRA(e);
    memset(x, 0xab, 100);   /* the sanitizers object if this overruns */
    tap_ok(x[0] == 0xab && x[99] == 0xab && t->timeout == 10 && !t->is_periodic,
           "extra_size bytes are usable and leave the event's own fields alone");
    ZEND_ASYNC_EVENT_RELEASE(e);
}

static void test_refcount(void)
{
    rec r = {0};
    zend_async_event_t *e = timer(1);
    e->add_callback(e, rec_callback(&r));
    tap_is_int(ZEND_ASYNC_EVENT_REF(e), 1, "a new event holds one reference");
    ZEND_ASYNC_EVENT_ADD_REF(e);
    ZEND_ASYNC_EVENT_ADD_REF(e);
    ZEND_ASYNC_EVENT_DEL_REF(e);
    tap_is_int(ZEND_ASYNC_EVENT_REF(e), 2, "ADD_REF twice and DEL_REF once leave two");
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_ok(ZEND_ASYNC_EVENT_REF(e) == 1 && r.disposed == 0, "RELEASE of one of two references keeps the event");
    e->start(e);
    tap_ok(RUN_UNTIL(r.calls == 1, 2000), "the event still works after that RELEASE");
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_is_int(r.disposed, 1, "the last RELEASE disposes the event and its callbacks");
}

static void test_vector(void)
{
    rec a = {0};
    zend_async_event_t *e = timer(1);
    zend_async_event_callback_t *cb = rec_callback(&a);
    e->add_callback(e, cb);
    e->add_callback(e, cb);
    tap_ok(e->callbacks.length == 1 && cb->ref_count == 1, "adding a callback twice keeps one entry and one reference");
    e->del_callback(e, cb);
    tap_ok(a.disposed == 1 && e->callbacks.length == 0, "removing it drops the event's reference: disposed");

    /* A consumer that keeps its own reference outlives the event's. */
    rec k = {0};
    cb = rec_callback(&k);
    ZEND_ASYNC_EVENT_CALLBACK_ADD_REF(cb);
    e->add_callback(e, cb);
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_ok(k.disposed == 0 && cb->ref_count == 1, "a callback the consumer still references survives the event");
    ZEND_ASYNC_EVENT_CALLBACK_RELEASE(cb, NULL);
    tap_is_int(k.disposed, 1, "the consumer's release then disposes it");
}

typedef struct {
    zend_async_event_callback_t *victim;
    rec *added;
} mutate_ctx;

static void remove_other(rec *r, zend_async_event_t *event, void *result, zend_object *ex)
{
    (void) result; (void) ex;
    mutate_ctx *m = r->ctx;
    event->del_callback(event, m->victim);
    event->add_callback(event, rec_callback(m->added));
}

static void release_event(rec *r, zend_async_event_t *event, void *result, zend_object *ex)
{
    (void) r; (void) result; (void) ex;
    ZEND_ASYNC_EVENT_RELEASE(event);
}

static void test_notify(void)
{
    rec a = {0}, b = {0}, c = {0}, d = {0};
    mutate_ctx m = { NULL, &d };
    zend_async_event_t *e = timer(1);
    a.hook = remove_other;
    a.ctx = &m;
    e->add_callback(e, rec_callback(&a));
    m.victim = rec_callback(&b);
    e->add_callback(e, m.victim);
    e->add_callback(e, rec_callback(&c));
    e->start(e);
    RUN_UNTIL(a.calls > 0, 2000);
    tap_ok(a.calls == 1 && b.calls == 0 && b.disposed == 1 && c.calls == 1,
           "a callback removed during notification is skipped and disposed, the rest still run");
    tap_ok(d.calls == 0 && e->callbacks.length == 3, "a callback added during notification waits for the next one");
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_ok(a.disposed == 1 && c.disposed == 1 && d.disposed == 1, "dispose frees every remaining callback");

    rec x = {0}, y = {0};
    x.hook = release_event;
    e = timer(1);
    e->add_callback(e, rec_callback(&x));
    e->add_callback(e, rec_callback(&y));
    e->start(e);
    RUN_UNTIL(x.calls > 0, 2000);
    tap_ok(x.calls == 1 && y.calls == 1 && x.disposed == 1 && y.disposed == 1,
           "releasing the event inside its callback finishes the notification, then disposes");
}

static void test_start_stop(void)
{
    rec r = {0};
    uint32_t base = ZEND_ASYNC_ACTIVE_EVENT_COUNT;
    zend_async_event_t *e = timer(30000);
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    e->start(e);
    tap_ok(e->loop_ref_count == 2 && ZEND_ASYNC_ACTIVE_EVENT_COUNT == base + 1 && ZEND_ASYNC_REACTOR_LOOP_ALIVE(),
           "two starts: loop_ref_count 2, one active event, loop alive");
    e->stop(e);
    tap_ok(e->loop_ref_count == 1 && ZEND_ASYNC_ACTIVE_EVENT_COUNT == base + 1, "one stop of two keeps it active");
    e->stop(e);
    e->stop(e);
    tap_ok(e->loop_ref_count == 0 && ZEND_ASYNC_ACTIVE_EVENT_COUNT == base, "the balancing stop deactivates; more stops are harmless");
    e->start(e);
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_ok(ZEND_ASYNC_ACTIVE_EVENT_COUNT == base && r.disposed == 1 && r.calls == 0,
           "disposing a started event with a callback attached stops it and frees the callback");
}

static void test_exceptions(void)
{
    tap_ok(ta_ce_async_exception && ta_ce_async_exception->parent == zend_ce_exception
           && ta_ce_dns_exception->parent == zend_ce_exception
           && ta_ce_input_output_exception->parent == zend_ce_exception,
           "AsyncException, DnsException and InputOutputException extend Exception (php-async's tree)");
    tap_ok(ta_ce_async_cancellation->parent && ta_ce_async_cancellation->parent->parent == zend_ce_error
           && ta_ce_operation_canceled->parent == ta_ce_async_cancellation,
           "AsyncCancellation extends \\Cancellation (an Error); OperationCanceledException extends it");
    zend_string *name = zend_string_init(ZEND_STRL("Async\\InputOutputException"), 0);
    tap_ok(zend_lookup_class(name) == ta_ce_input_output_exception, "the classes are visible to PHP by name");
    zend_string_release(name);
    zend_object *ex = ta_async_new_exception(ta_ce_dns_exception, -3008, "lookup of %s failed", "x");
    tap_ok(EG(exception) == NULL && is_instance(ex, ta_ce_dns_exception)
           && strcmp(exception_message(ex), "lookup of x failed") == 0 && exception_code(ex) == -3008,
           "ta_async_new_exception builds without throwing, with message and code");
    OBJ_RELEASE(ex);
}

static int plain_calls;
static void plain_fire(zend_async_event_t *e, zend_async_event_callback_t *cb, void *res, zend_object *ex)
{
    (void) e; (void) cb; (void) res; (void) ex;
    plain_calls++;
}

static void test_shutdown(void)
{
    rec r = {0};
    zend_async_event_t *e = timer(5);
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    harness_reactor_down(false);
    tap_ok(ta_reactor_loop() == NULL && ZEND_ASYNC_EVENT_IS_CLOSED(e) && e->loop_ref_count == 0
           && ZEND_ASYNC_ACTIVE_EVENT_COUNT == 0 && r.calls == 0 && r.disposed == 0,
           "shutdown stops and closes a live event but leaves it to its owner");
    e->start(e);
    tap_is_int(e->loop_ref_count, 0, "starting a closed event does nothing");
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT(1, false);
    zend_object *ex = take_exception();
    tap_ok(t == NULL && is_instance(ex, zend_ce_error) && contains(exception_message(ex), "not running"),
           "creating an event with no reactor on the thread throws Error");
    if (ex) OBJ_RELEASE(ex);
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_is_int(r.disposed, 1, "the owner's release after shutdown disposes it");
    harness_reactor_up();

    /* Abandon: what nobody released is freed without its callbacks. */
    static zend_async_event_callback_t plain = { 0, plain_fire, NULL };
    e = timer(5);
    e->add_callback(e, &plain);
    e->start(e);
    harness_reactor_down(true);
    tap_ok(ta_reactor_loop() == NULL && plain_calls == 0, "abandon frees unreleased events without notifying");
    harness_reactor_up();
}

static void body(void)
{
    tap_plan(34);
    test_registry();
    test_extra();
    test_refcount();
    test_vector();
    test_notify();
    test_start_stop();
    test_exceptions();
    test_shutdown();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
