/* A coroutine waits for file descriptors on the reactor: the waits that
 * the stream, proc_open and curl adapters share. */
#ifndef TA_CORO_WAIT_H
#define TA_CORO_WAIT_H

#include <sys/time.h>

/* Suspends the current coroutine until fd is ready for `events`
 * (ASYNC_READABLE / ASYNC_WRITABLE) or tv passes (NULL: no limit).
 * 1 ready, 0 timed out, -1 an exception (cancellation) is pending.
 * Outside a coroutine: 1 at once. */
int ta_wait_fd(int fd, int events, const struct timeval *tv);
/* The same for the first of n descriptors (events[i] for fds[i]). */
int ta_wait_fds(const int *fds, const int *events, int n, const struct timeval *tv);

#endif
