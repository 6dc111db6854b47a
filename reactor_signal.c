/* Signal events: one uv_signal each, firing on every delivery. Made by the
 * contract's new_signal_event slot. */
#include "reactor_event.h"

#include <signal.h>

typedef struct {
    zend_async_signal_event_t event;
    ta_ev ev;
    uv_signal_t handle;
} ta_signal;

TA_EV_METHODS(signal, ta_signal, ev)

static void signal_delivered(uv_signal_t *h, int signum)
{
    (void) signum;
    ta_ev *ev = h->data;
    ta_ev_notify(ev, &((ta_signal *) ev->event)->event.signal);
}

static bool signal_arm(ta_ev *ev)
{
    ta_signal *s = (ta_signal *) ev->event;
    return ta_ev_started(uv_signal_start(&s->handle, signal_delivered, s->event.signal),
                         "Failed to watch signal %d", s->event.signal);
}

static void signal_disarm(ta_ev *ev) { uv_signal_stop(&((ta_signal *) ev->event)->handle); }

static void signal_release_uv(ta_ev *ev) { ta_ev_close((uv_handle_t *) &((ta_signal *) ev->event)->handle); }

static const ta_ev_ops signal_ops = {
    signal_arm, signal_disarm, signal_release_uv, NULL,
    signal_start, signal_stop, signal_dispose
};

zend_async_signal_event_t *ta_signal_new(int signum, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("signal event");
    if (!r) return NULL;
    if (signum <= 0 || signum >= NSIG) {
        zend_throw_error(NULL, "Failed to create signal event for %d: %s", signum, ta_ev_strerror(UV_EINVAL));
        return NULL;
    }
    ta_signal *s = ta_ev_alloc(sizeof *s, extra_size);
    ta_ev_init(&s->ev, &s->event.base, sizeof *s, &signal_ops);
    s->event.signal = signum;
    int rc = uv_signal_init(&r->loop, &s->handle);
    if (rc < 0) {
        pefree(s, 1);
        zend_throw_error(NULL, "Failed to create signal event for %d: %s", signum, ta_ev_strerror(rc));
        return NULL;
    }
    ta_ev_adopt(&s->ev, (uv_handle_t *) &s->handle);
    ta_ev_link(&s->ev, r);
    return &s->event;
}
