/* Timer events: one uv_timer each, one-shot or periodic. Made by the
 * contract's new_timer_event slot (delay(), timeouts, sleep(), stream
 * timeouts, the worker's stop timer). */
#include "reactor_event.h"

typedef struct {
    zend_async_timer_event_t event;
    ta_ev ev;
    uv_timer_t handle;
    uint64_t ms;
} ta_timer;

TA_EV_METHODS(timer, ta_timer, ev)

static void timer_fired(uv_timer_t *h)
{
    ta_ev *ev = h->data;
    ta_timer *t = (ta_timer *) ev->event;
    if (!t->event.is_periodic) {
        ZEND_ASYNC_EVENT_SET_CLOSED(&t->event.base);
        ta_ev_stop_all(&t->event.base);
    }
    ta_ev_notify(ev, NULL);
}

static bool timer_arm(ta_ev *ev)
{
    ta_timer *t = (ta_timer *) ev->event;
    /* The loop's clock is from the start of the iteration; be exact. */
    uv_update_time(t->handle.loop);
    uint64_t repeat = t->event.is_periodic ? (t->ms ? t->ms : 1) : 0;
    return ta_ev_started(uv_timer_start(&t->handle, timer_fired, t->ms, repeat), "Failed to start timer");
}

static void timer_disarm(ta_ev *ev) { uv_timer_stop(&((ta_timer *) ev->event)->handle); }

static void timer_release_uv(ta_ev *ev) { ta_ev_close((uv_handle_t *) &((ta_timer *) ev->event)->handle); }

static const ta_ev_ops timer_ops = {
    timer_arm, timer_disarm, timer_release_uv, NULL,
    timer_start, timer_stop, timer_dispose
};

zend_async_timer_event_t *ta_timer_new(const zend_ulong timeout, const zend_ulong nanoseconds,
                                       const bool is_periodic, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("timer event");
    if (!r) return NULL;
    ta_timer *t = ta_ev_alloc(sizeof *t, extra_size);
    ta_ev_init(&t->ev, &t->event.base, sizeof *t, &timer_ops);
    t->event.timeout = timeout;
    t->event.nanoseconds = nanoseconds;
    t->event.is_periodic = is_periodic;
    /* Whole milliseconds, never shorter than asked. */
    uint64_t ns_ms = nanoseconds / 1000000 + (nanoseconds % 1000000 != 0);
    t->ms = (uint64_t) timeout > UINT64_MAX - ns_ms ? UINT64_MAX : (uint64_t) timeout + ns_ms;
    int rc = uv_timer_init(&r->loop, &t->handle);
    if (rc < 0) {
        pefree(t, 1);
        zend_throw_error(NULL, "Failed to create timer: %s", ta_ev_strerror(rc));
        return NULL;
    }
    ta_ev_adopt(&t->ev, (uv_handle_t *) &t->handle);
    ta_ev_link(&t->ev, r);
    return &t->event;
}
