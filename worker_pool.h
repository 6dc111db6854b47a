/* The PHP workers of this Apache child: their threads' start and stop, and
 * dispatch of requests to them. The Apache glue sees only this header; no
 * Zend behind it either (PHP lives behind worker_thread.h). */
#ifndef TA_WORKER_POOL_H
#define TA_WORKER_POOL_H

#include "exchange.h"
#include "worker_config.h"
#include "worker_dispatch.h"
#include "worker_stats.h"

typedef struct ta_worker ta_worker;

/* Boots PHP in this process (once) and starts every worker's threads and
 * the watchdog. Their figures go to `stats` (this child's region laid out
 * for these configs; NULL: kept privately). Returns 0, or -1 with the
 * reason logged. */
int ta_worker_pool_start(const ta_worker_config *configs, int n, ta_child_stats *stats, ta_worker **out_workers);
/* Stops taking work, cancels what is in flight, joins, shuts PHP down. */
void ta_worker_pool_stop(void);

/* Requests the PHP threads hold (queued or running), for the log. */
unsigned ta_worker_pool_held(void);
/* Apache stops without grace: every PHP thread cancels its coroutines at
 * their suspension points (finally blocks run) and fails what is queued. */
void ta_worker_pool_cancel_all(void);
/* Calls on_fire (from another thread, may be NULL) and ta_worker_pool_cancel_all()
 * once `ms` have passed, unless the pool stopped first. A stop that then
 * cannot finish within TA_WORKER_POOL_EXIT_GRACE_MS (a request that ignores its
 * cancellation, or is caught in a C loop) ends the process there: it must
 * never hold a stopping child forever. 0 or an errno value. */
int ta_worker_pool_cancel_after(unsigned ms, void (*on_fire)(unsigned held));

/* The worker's figures (Apache threads add their 503s and durations). */
ta_worker_stats *ta_worker_stats_of(ta_worker *w);
/* TrueAsyncMaxWaitTime, on the Apache thread: ms to wait before looking
 * again whether the request still sits in its queue (-1: no need; *until 0
 * for none). At the deadline one still queued is taken back (PHP never sees
 * it, its PHP-side reference is dropped) and *refused is set. */
int ta_worker_wait_check(ta_exchange *ex, uint64_t *until, int *refused);
/* Waits for news on the dispatched exchange (ta_dispatch_wait()). */
int ta_worker_wait(ta_exchange *ex, ta_notifier *n, int timeout_ms, int fd, short events, short *revents);
/* The number (in its worker) of the PHP thread a dispatched exchange went to. */
int ta_worker_thread_of(ta_exchange *ex);
/* Whether some thread of the worker is alive (booting, ready, recycling). */
int ta_worker_alive(ta_worker *w);
/* Whether some thread of the worker could take a request now. */
int ta_worker_has_room(ta_worker *w);
/* Queues the exchange on the least-loaded live thread. On anything but
 * TA_DISPATCH_OK the exchange was not queued (both refs stay with caller). */
int ta_worker_dispatch(ta_worker *w, ta_exchange *ex);
/* The client left while its request waited in a queue: takes it out again
 * and frees the slot at once. 1: withdrawn (PHP will never see it; the PHP
 * side's reference is the caller's to drop), 0: a PHP thread has it. */
int ta_worker_withdraw(ta_exchange *ex);

#endif
