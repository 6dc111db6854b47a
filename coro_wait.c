/* Waits on reactor events for coroutines (ta_coro_wait() underneath), and
 * the descriptor waits built on them. */
#include "scheduler.h"     /* first: Zend headers before any libc one */
#include "coro_wait.h"

/* Attached to one event of a wait. Heap, owned by the event (freed on its
 * dispose): an event a bailout leaves behind never points into a frame. */
typedef struct {
    zend_async_event_callback_t base;
    ta_coro *co;                /* NULL once it woke it */
    ta_event_outcome got;
} ta_event_waiter;

static void event_waiter_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result;
    ta_event_waiter *w = (ta_event_waiter *) cb;
    w->got.fired = true;
    w->got.failed = ex != NULL;
    if (w->co) { ta_coro *co = w->co; w->co = NULL; ta_coro_wake(co); }
}

static void event_waiter_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev)
{
    (void) ev;
    efree(cb);
}

typedef struct {
    zend_async_event_t *const *evs;
    ta_event_waiter **ws;
    int n;
    bool stopped;
} ta_wait_set;

/* Also the wait's cancel function: a cancelled coroutine stops listening. */
static void stop_events(ta_coro *co, void *data)
{
    (void) co;
    ta_wait_set *set = data;
    if (set->stopped) return;
    set->stopped = true;
    for (int i = 0; i < set->n; i++) set->evs[i]->stop(set->evs[i]);
}

static bool any_fired(const ta_wait_set *set)
{
    for (int i = 0; i < set->n; i++) if (set->ws[i]->got.fired) return true;
    return false;
}

/* Attaches the waiters and starts the events; false if one refused. */
static bool attach_and_start(ta_wait_set *set, ta_coro *co)
{
    for (int i = 0; i < set->n; i++) {
        ta_event_waiter *w = ecalloc(1, sizeof *w);
        w->base.callback = event_waiter_fire;
        w->base.dispose = event_waiter_dispose;
        w->co = co;
        set->ws[i] = w;
        set->evs[i]->add_callback(set->evs[i], &w->base);
    }
    for (int i = 0; i < set->n && !EG(exception); i++) set->evs[i]->start(set->evs[i]);
    return !EG(exception);
}

int ta_coro_wait_events(zend_async_event_t *const *evs, int n, ta_event_outcome *out)
{
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "This operation must be called inside a coroutine");
        return TA_WAIT_REFUSED;
    }
    ta_event_waiter *few[4];
    ta_wait_set set = { evs, n <= 4 ? few : safe_emalloc((size_t) n, sizeof *set.ws, 0), n, false };
    int rc = attach_and_start(&set, co) ? TA_WAIT_OK : TA_WAIT_REFUSED;
    while (rc == TA_WAIT_OK && !any_fired(&set)) {
        if (ta_coro_wait(stop_events, &set) == FAILURE) rc = TA_WAIT_THROWN;
    }
    stop_events(co, &set);
    for (int i = 0; i < n; i++) {
        if (out) out[i] = set.ws[i]->got;
        evs[i]->del_callback(evs[i], &set.ws[i]->base);
    }
    if (set.ws != few) efree(set.ws);
    return rc;
}

int ta_coro_wait_event(zend_async_event_t *ev)
{
    ta_event_outcome got;
    int rc = ta_coro_wait_events(&ev, 1, &got);
    return rc == TA_WAIT_OK && got.failed ? TA_WAIT_FAILED : rc;
}

/* ---- descriptors ------------------------------------------------------------------ */

int ta_wait_fds(const int *fds, const int *events, int n, const struct timeval *tv)
{
    if (!ta_coro_current()) return 1;
    ta_in_flight aside = ta_in_flight_aside();      /* I/O while the stack unwinds */
    int made = 0, rc = 0;
    zend_async_event_t **evs = ecalloc((size_t) n + 1, sizeof *evs);
    ta_event_outcome *out = ecalloc((size_t) n + 1, sizeof *out);
    for (int i = 0; i < n && rc == 0; i++) {
        zend_async_poll_event_t *p = ZEND_ASYNC_NEW_POLL_EVENT(ZEND_FD_INVALID, fds[i], (async_poll_event) events[i]);
        if (p) evs[made++] = &p->base; else rc = -1;
    }
    if (rc == 0 && tv) {
        zend_ulong ms = (zend_ulong) tv->tv_sec * 1000 + (zend_ulong) tv->tv_usec / 1000;
        zend_ulong ns = (zend_ulong) (tv->tv_usec % 1000) * 1000;
        zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT_EX(ms, ns, false, 0);
        if (t) evs[made++] = &t->base; else rc = -1;
    }
    if (rc == 0 && ta_coro_wait_events(evs, made, out) != TA_WAIT_OK) rc = -1;
    /* An error on a descriptor counts as ready: the operation reports it. */
    bool ready = false, timed_out = false;
    for (int i = 0; i < made; i++) {
        if (out[i].fired) *(tv && i == made - 1 ? &timed_out : &ready) = true;
        ZEND_ASYNC_EVENT_RELEASE(evs[i]);
    }
    efree(evs);
    efree(out);
    ta_in_flight_back(aside);
    if (rc < 0) return -1;
    return ready ? 1 : timed_out ? 0 : 1;
}

int ta_wait_fd(int fd, int events, const struct timeval *tv)
{
    return ta_wait_fds(&fd, &events, 1, tv);
}
