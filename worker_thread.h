/* One PHP thread of a worker: the parts the PHP-side files share. */
#ifndef TA_WORKER_THREAD_H
#define TA_WORKER_THREAD_H

#include "php_common.h"
#include "request_queue.h"
#include "notifier.h"
#include "exchange.h"
#include "worker_pool.h"
#include "scheduler.h"
#include "ta_async_api.h"

enum { TA_THREAD_BOOTING = 0, TA_THREAD_READY, TA_THREAD_FAILED, TA_THREAD_STOPPED, TA_THREAD_RECYCLING };

typedef struct ta_php_thread {
    ta_worker *worker;
    int index;
    pthread_t tid;
    int started;
    ta_queue queue;
    ta_notifier wake;
    pthread_mutex_t inbox_lock;
    ta_exchange *inbox;
    int state;                  /* atomic: TA_THREAD_* */
    int stop;                   /* atomic */
    int cancel;                 /* atomic: cancel everything running now */
    int interrupt;              /* atomic: the VM interrupt was raised for us */
    zend_atomic_bool *vm_interrupt; /* the thread's EG(vm_interrupt), under inbox_lock */
    int entering_loop;
    int recycled;               /* the loop ended to boot the script afresh */

    /* PHP thread only */
    zval callback;
    zend_async_poll_event_t *wake_event;    /* the notifier, on the reactor */
    zend_async_event_callback_t wake_cb;    /* embedded: nothing to free */
    zend_async_timer_event_t *stop_timer;
    ta_sched sched;
    ta_exchange *inflight;      /* exchanges the PHP side holds, for failing them */
    ta_exchange *deferred;      /* responses whose Apache thread is told before the loop waits */
} ta_php_thread;

struct ta_worker {
    ta_worker_config cfg;
    ta_php_thread *threads;
    int n_threads;
};

extern __thread ta_php_thread *ta_thread_current;

/* The request is finished on the PHP side: frees its queue slot, drops it
 * from the in-flight list and releases the PHP side's reference. */
void ta_thread_request_done(ta_php_thread *t, ta_exchange *ex);
/* The event loop: takes requests, runs coroutines, until asked to stop. */
void ta_thread_serve(ta_php_thread *t);

#endif
