/* Descriptor waits on the reactor, built on the scheduler's
 * ta_coro_wait_events(). */
#include "scheduler.h"     /* first: Zend headers before any libc one */
#include "coro_wait.h"

int ta_wait_fds(const int *fds, const int *events, int n, const struct timeval *tv)
{
    if (!ta_coro_current()) return 1;
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
    if (rc < 0) return -1;
    return ready ? 1 : timed_out ? 0 : 1;
}

int ta_wait_fd(int fd, int events, const struct timeval *tv)
{
    return ta_wait_fds(&fd, &events, 1, tv);
}
