/* The part of a PHP thread that Apache threads touch: its bounded request
 * queue, its wake-up notifier, its inbox of exchanges with news (chunk
 * taken, client gone), its state and its stop/cancel flags. No Zend here:
 * the PHP side registers a callback that raises the engine's VM interrupt,
 * so news reach a coroutine that runs without suspending. */
#ifndef TA_THREAD_MAILBOX_H
#define TA_THREAD_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include "request_queue.h"
#include "notifier.h"
#include "exchange.h"
#include "thread_watch.h"

struct ta_php_thread_stats;

/* TA_PHP_THREAD_IDLE: a slot of TrueAsyncThreads MIN MAX with no thread (not
 * started, or its thread retired). */
enum { TA_PHP_THREAD_BOOTING = 0, TA_PHP_THREAD_READY, TA_PHP_THREAD_FAILED, TA_PHP_THREAD_STOPPED, TA_PHP_THREAD_RECYCLING,
       TA_PHP_THREAD_IDLE };

typedef struct ta_mailbox {
    int index;                  /* the thread's number in its worker */
    ta_queue queue;
    ta_notifier wake;
    int state;                  /* atomic: TA_PHP_THREAD_* */
    int stop;                   /* atomic: stop for good */
    int cancel;                 /* atomic: cancel everything running now */
    int interrupt;              /* atomic: news arrived while PHP code ran */
    int retire;                 /* atomic: finish what it holds (queue closed) and exit */
    int exited;                 /* atomic: its thread has left (the pool may join it at once) */
    int may_exit;               /* set before it starts: above MIN, exits when its boot fails */
    /* The wake-up handshake (ta_mailbox_wake, ta_mailbox_sleep): while
     * `awake`, the thread's loop looks at `news` before it blocks, so
     * nobody needs to write its notifier. Both atomic. */
    int awake;
    int news;

    pthread_mutex_t lock;       /* guards the inbox and the interrupt hook */
    ta_exchange *inbox;
    void (*raise_fn)(void *arg);    /* set by the PHP thread while it can take it */
    void *raise_arg;

    ta_watch watch;             /* what the watchdog looks at (thread_watch.h) */
    struct ta_php_thread_stats *stats;  /* its status figures (worker_stats.h); set before it starts */
} ta_mailbox;

/* 0 or an errno value. */
int ta_mailbox_init(ta_mailbox *m, int index, unsigned capacity);
void ta_mailbox_destroy(ta_mailbox *m);

static inline int ta_mailbox_state(ta_mailbox *m) { return __atomic_load_n(&m->state, __ATOMIC_ACQUIRE); }
static inline void ta_mailbox_set_state(ta_mailbox *m, int s) { __atomic_store_n(&m->state, s, __ATOMIC_RELEASE); }
static inline int ta_mailbox_stopping(ta_mailbox *m) { return __atomic_load_n(&m->stop, __ATOMIC_ACQUIRE); }
/* Booting, ready or recycling, and not asked to stop or retire. */
int ta_mailbox_alive(ta_mailbox *m);

/* Any thread, after publishing what the PHP thread should see (a queued
 * request, its inbox, a flag): tells it to look. Writes the notifier only
 * when the thread is not awake in its loop (one syscall saved per request
 * under load; a missed wake-up is ruled out by the order of the flags). */
void ta_mailbox_wake(ta_mailbox *m);
/* PHP thread, in its loop: whether anything was posted since the last call;
 * clears it. Call before looking at the queue, inbox and flags. */
int ta_mailbox_take_news(ta_mailbox *m);
/* PHP thread, in its loop: it is about to block. 1: block (wakers will now
 * write the notifier); 0: news came meanwhile, look again instead. After
 * the blocking call, ta_mailbox_set_awake(m, 1). */
int ta_mailbox_sleep(ta_mailbox *m);
/* PHP thread: its loop starts (1) or leaves (0; it may block elsewhere). */
void ta_mailbox_set_awake(ta_mailbox *m, int awake);

/* Any thread: the exchange has news for PHP (the wake_php of an exchange).
 * Queues it on the inbox (holding a reference) and wakes the thread; for
 * a client that left, also interrupts running PHP code. */
void ta_mailbox_post(ta_exchange *ex);
/* PHP thread: whether anything waits for its loop to look (queued
 * requests, news on the inbox, a deadline passed, a cancel); `box` is the
 * mailbox. Takes the inbox lock: for occasional checks. */
bool ta_mailbox_has_news(void *box);
/* Any thread: interrupt the PHP code the thread runs, if any. */
void ta_mailbox_interrupt(ta_mailbox *m);
/* Any thread: raise the VM interrupt only (the watchdog's flags say why). */
void ta_mailbox_raise(ta_mailbox *m);
/* Any thread: stop for good (queue closed), or cancel what runs now. */
void ta_mailbox_request_stop(ta_mailbox *m);
void ta_mailbox_request_cancel(ta_mailbox *m);
/* Any thread: the thread retires (TrueAsyncThreadIdleTimeout): its queue is
 * closed first, so dispatch stops choosing it; what it holds finishes. */
void ta_mailbox_request_retire(ta_mailbox *m);
static inline int ta_mailbox_retiring(ta_mailbox *m) { return __atomic_load_n(&m->retire, __ATOMIC_ACQUIRE); }
/* The pool, after joining the slot's thread: a fresh slot for the next one
 * (its queue, notifier and inbox stay: Apache threads may still hold
 * exchanges that point here). Releases what the inbox holds. */
void ta_mailbox_reset(ta_mailbox *m);

/* PHP thread: takes the whole inbox (each exchange holds a reference the
 * taker releases); the list is linked through inbox_next. */
ta_exchange *ta_mailbox_take_inbox(ta_mailbox *m);
/* PHP thread: installs (or, with NULL, removes) what raises its engine's
 * interrupt. */
void ta_mailbox_set_interrupt(ta_mailbox *m, void (*raise_fn)(void *), void *arg);
/* PHP thread: whether an interrupt is pending; clears it. */
int ta_mailbox_take_interrupt(ta_mailbox *m);

#endif
