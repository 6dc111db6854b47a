/* PHP stream sockets (tcp, udp, unix, udg, ssl/tls) yield inside coroutines:
 * a read, write, connect or accept that would wait suspends the coroutine
 * on the reactor instead of blocking the thread. */
#ifndef TA_PHP_STREAM_YIELD_H
#define TA_PHP_STREAM_YIELD_H

#include <sys/time.h>

/* Wraps every registered socket transport; call at module start-up, after
 * the extensions that register transports (openssl) started. */
void ta_stream_yield_install(void);

/* Suspends the current coroutine until fd is ready for `events`
 * (ASYNC_READABLE / ASYNC_WRITABLE) or tv passes (NULL: no limit).
 * 1 ready, 0 timed out, -1 an exception (cancellation) is pending. */
int ta_wait_fd(int fd, int events, const struct timeval *tv);
/* The same for the first of n descriptors (events[i] for fds[i]). */
int ta_wait_fds(const int *fds, const int *events, int n, const struct timeval *tv);

/* stream_select() waits on the reactor inside coroutines. */
void ta_stream_select_install(void);

#endif
