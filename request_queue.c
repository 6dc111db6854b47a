#include "request_queue.h"

#include <errno.h>
#include <stdlib.h>

/* queued and held change under the lock but are read without it (the
 * watchdog's figures, the pool's pick): relaxed stores, plain movs on x86. */
static void set_queued(ta_queue *q, unsigned n) { __atomic_store_n(&q->queued, n, __ATOMIC_RELAXED); }
static void set_held(ta_queue *q, unsigned n) { __atomic_store_n(&q->held, n, __ATOMIC_RELAXED); }

int ta_queue_init(ta_queue *q, unsigned capacity)
{
    if (capacity == 0) return EINVAL;
    q->ring = calloc(capacity, sizeof *q->ring);
    if (!q->ring) return ENOMEM;
    int rc = pthread_mutex_init(&q->lock, NULL);
    if (rc) { free(q->ring); q->ring = NULL; return rc; }
    q->capacity = capacity;
    q->head = q->queued = q->held = 0;
    q->closed = 0;
    return 0;
}

void ta_queue_destroy(ta_queue *q)
{
    if (!q->ring) return;
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    q->ring = NULL;
}

int ta_queue_push(ta_queue *q, void *item)
{
    int rc = TA_QUEUE_OK;
    pthread_mutex_lock(&q->lock);
    if (q->closed) rc = TA_QUEUE_CLOSED;
    else if (q->held >= q->capacity) rc = TA_QUEUE_FULL;
    else {
        q->ring[(q->head + q->queued) % q->capacity] = item;
        set_queued(q, q->queued + 1);
        set_held(q, q->held + 1);
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

unsigned ta_queue_pop(ta_queue *q, void **out, unsigned max)
{
    unsigned n = 0;
    pthread_mutex_lock(&q->lock);
    while (n < max && q->queued > 0) {
        out[n++] = q->ring[q->head];
        q->head = (q->head + 1) % q->capacity;
        set_queued(q, q->queued - 1);
    }
    pthread_mutex_unlock(&q->lock);
    return n;
}

unsigned ta_queue_steal(ta_queue *q, void **out, unsigned max)
{
    pthread_mutex_lock(&q->lock);
    unsigned n = 0;
    while (n < max && q->queued > 0) {
        out[n++] = q->ring[q->head];
        q->head = (q->head + 1) % q->capacity;
        set_queued(q, q->queued - 1);
    }
    set_held(q, q->held - n);
    pthread_mutex_unlock(&q->lock);
    return n;
}

void ta_queue_release(ta_queue *q)
{
    pthread_mutex_lock(&q->lock);
    if (q->held > q->queued) set_held(q, q->held - 1);
    pthread_mutex_unlock(&q->lock);
}

unsigned ta_queue_load(ta_queue *q)
{
    return __atomic_load_n(&q->held, __ATOMIC_RELAXED);
}

void ta_queue_close(ta_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_mutex_unlock(&q->lock);
}

void ta_queue_open(ta_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 0;
    pthread_mutex_unlock(&q->lock);
}

int ta_queue_withdraw(ta_queue *q, void *item)
{
    int found = 0;
    pthread_mutex_lock(&q->lock);
    for (unsigned i = 0; i < q->queued; i++) {
        if (q->ring[(q->head + i) % q->capacity] != item) continue;
        /* close the gap: later items move one place towards the head */
        for (unsigned j = i; j + 1 < q->queued; j++)
            q->ring[(q->head + j) % q->capacity] = q->ring[(q->head + j + 1) % q->capacity];
        set_queued(q, q->queued - 1);
        set_held(q, q->held - 1);
        found = 1;
        break;
    }
    pthread_mutex_unlock(&q->lock);
    return found;
}
