/* A coroutine waits on reactor events, and for file descriptors: the waits
 * that the stream, proc_open and curl adapters share. */
#ifndef TA_CORO_WAIT_H
#define TA_CORO_WAIT_H

#include "scheduler.h"
#include <sys/time.h>

/* How a wait on reactor events ended. */
enum {
    TA_WAIT_REFUSED = -2,       /* an event would not start: its exception is pending */
    TA_WAIT_THROWN = -1,        /* cancelled (or unwound): the exception is pending */
    TA_WAIT_FAILED = 0,         /* the event fired with an exception (a failed lookup) */
    TA_WAIT_OK = 1,             /* it fired */
};
/* What one event of a wait did. */
typedef struct { bool fired, failed; } ta_event_outcome;

/* From inside a coroutine: attaches a callback to each of the n events,
 * starts them and sleeps until the first fires; then, or on cancellation,
 * stops them all and detaches the callbacks. Another ta_coro_wake() does
 * not end the wait. The caller keeps its references (and releases the
 * events). `out` (n entries, or NULL) gets what each event did. TA_WAIT_OK
 * once one fired (with an exception or not), else TA_WAIT_REFUSED or
 * TA_WAIT_THROWN. */
int ta_coro_wait_events(zend_async_event_t *const *evs, int n, ta_event_outcome *out);
/* The same for one event; TA_WAIT_FAILED if it fired with an exception. */
int ta_coro_wait_event(zend_async_event_t *ev);

/* Suspends the current coroutine until fd is ready for `events`
 * (ASYNC_READABLE / ASYNC_WRITABLE) or tv passes (NULL: no limit).
 * 1 ready, 0 timed out, -1 an exception (cancellation) is pending.
 * Outside a coroutine: 1 at once. */
int ta_wait_fd(int fd, int events, const struct timeval *tv);
/* The same for the first of n descriptors (events[i] for fds[i]). */
int ta_wait_fds(const int *fds, const int *events, int n, const struct timeval *tv);

#endif
