/* Bounded per-thread request queue. A slot is held from push until the
 * request is finished (ta_queue_release), so capacity bounds the requests a
 * PHP thread holds at once, waiting or running. Pushes come from many
 * Apache threads; one PHP thread pops. */
#ifndef TA_REQUEST_QUEUE_H
#define TA_REQUEST_QUEUE_H

#include <pthread.h>

typedef struct ta_queue {
    pthread_mutex_t lock;
    void **ring;
    unsigned capacity;
    unsigned head;          /* index of the oldest queued item */
    /* queued and held: written under lock (relaxed atomic stores), read
     * by other threads with relaxed atomic loads and no lock */
    unsigned queued;        /* pushed, not yet popped */
    unsigned held;          /* pushed, not yet released (>= queued) */
    int closed;
} ta_queue;

enum { TA_QUEUE_OK = 0, TA_QUEUE_FULL = 1, TA_QUEUE_CLOSED = 2 };

/* 0 on success, ENOMEM or EINVAL (capacity 0). */
int ta_queue_init(ta_queue *q, unsigned capacity);
void ta_queue_destroy(ta_queue *q);
/* TA_QUEUE_OK, TA_QUEUE_FULL or TA_QUEUE_CLOSED. */
int ta_queue_push(ta_queue *q, void *item);
/* Moves up to max queued items, oldest first, into out; they stay held. */
unsigned ta_queue_pop(ta_queue *q, void **out, unsigned max);
/* Takes a still-queued item out again and frees its slot (its client left
 * before a PHP thread took it). 1 if it was queued, 0 if already popped. */
int ta_queue_withdraw(ta_queue *q, void *item);
/* Takes up to max queued items, oldest first, out for good: their slots
 * are free (they move to another thread's queue). */
unsigned ta_queue_steal(ta_queue *q, void **out, unsigned max);
/* One held request finished; frees its slot. */
void ta_queue_release(ta_queue *q);
/* Held slots (an unlocked read is fine for picking the least-loaded). */
unsigned ta_queue_load(ta_queue *q);
/* Refuses further pushes; queued items stay poppable. */
void ta_queue_close(ta_queue *q);
/* Re-opens a closed queue (a thread that rebooted its worker). */
void ta_queue_open(ta_queue *q);

#endif
