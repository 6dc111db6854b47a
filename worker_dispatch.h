/* Dispatch, on Apache threads: the least-loaded live PHP thread of a
 * worker gets the request. No Zend, no httpd: unit-tested on its own. */
#ifndef TA_WORKER_DISPATCH_H
#define TA_WORKER_DISPATCH_H

#include "thread_mailbox.h"

/* The most PHP threads one worker can have (TrueAsyncThreads' limit). */
#define TA_MAX_THREADS 256

enum { TA_DISPATCH_OK = 0, TA_DISPATCH_FULL = 1, TA_DISPATCH_UNAVAILABLE = 2 };

/* Whether one of the n threads could take a request now. */
int ta_dispatch_has_room(ta_mailbox *boxes, int n);
/* Queues ex on the least-loaded live thread (a recycling one only when no
 * other has room) and wakes it. On anything but TA_DISPATCH_OK nothing was
 * queued. */
int ta_dispatch(ta_mailbox *boxes, int n, ta_exchange *ex);
/* Requests waiting in from's queue (its thread at its concurrency limit)
 * move to `to`, a thread with room for them: up to max, oldest first; to
 * is woken. One that finds no room anywhere (Apache threads filled both
 * queues meanwhile) is answered 503. Returns how many moved. Watchdog's
 * thread only (a single mover). */
unsigned ta_dispatch_move(ta_mailbox *from, ta_mailbox *to, unsigned max);
/* The Apache thread waits for news on ex from the PHP thread (its notifier
 * n, and fd for `events` as ta_notifier_wait() does): returns at once when
 * PHP told something since the last ta_exchange_take(), else blocks, and
 * PHP then writes n. Returns as ta_notifier_wait(). */
int ta_dispatch_wait(ta_exchange *ex, ta_notifier *n, int timeout_ms, int fd, short events, short *revents);
/* The client left while ex waited in a queue: 1 if it was taken out again
 * (its slot is free; PHP never sees it), 0 if a PHP thread has it. */
int ta_dispatch_withdraw(ta_exchange *ex);

#endif
