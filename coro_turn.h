/* A queue of coroutines waiting their turn for something one owner uses at
 * a time (a shared connection, stream or curl handle), first come first
 * served. Only the queue: what is held, by whom and when it is let go is
 * the guard's own. PHP thread only; each waiter lives on its coroutine's
 * stack, so the queue allocates nothing. */
#ifndef TA_CORO_TURN_H
#define TA_CORO_TURN_H

#include "scheduler.h"

typedef struct ta_turn_queue ta_turn_queue;
typedef struct ta_turn_waiter ta_turn_waiter;

/* Where a waiter stands. Once it is anything but TA_TURN_WAITING the queue
 * has let it go, maybe while its coroutine slept: then that coroutine must
 * not read the guard on that account (the guard may be gone by the time it
 * runs), except as the guard's own rules allow (a turn granted keeps it). */
enum {
    TA_TURN_WAITING,            /* in the queue (and only then) */
    TA_TURN_GRANTED,            /* handed its turn (ta_turn_grant*), or took it (ta_turn_take) */
    TA_TURN_REFUSED,            /* there is no turn to wait for any more (ta_turn_refuse_all) */
    TA_TURN_CANCELLED,          /* left on its cancellation while it slept: the guard may be gone */
    TA_TURN_GAVE_UP,            /* its wait failed once it was awake (cancelled after a wake-up, or
                                 * the engine unwinding it): it left then, so the guard was there */
};

struct ta_turn_waiter {
    ta_coro *co;
    const void *owner;          /* on whose behalf it waits (a request, a coroutine) */
    ta_turn_queue *q;
    ta_turn_waiter *prev, *next;
    int state;
};

struct ta_turn_queue {
    ta_turn_waiter *head, *tail;
};

static inline bool ta_turn_empty(const ta_turn_queue *q) { return !q->head; }
static inline ta_turn_waiter *ta_turn_first(const ta_turn_queue *q) { return q->head; }

/* co joins the end of q, for owner. */
void ta_turn_join(ta_turn_queue *q, ta_turn_waiter *w, ta_coro *co, const void *owner);
/* From w's coroutine: sleeps once. FAILURE: cancelled or unwound (the
 * exception pending), and w has left the queue (TA_TURN_CANCELLED or
 * TA_TURN_GAVE_UP) unless it was granted or refused first. SUCCESS: woken;
 * w may still be waiting (a stray wake-up, or ta_turn_wake_first). */
zend_result ta_turn_wait(ta_turn_waiter *w);
/* ta_turn_wait() until w is no longer waiting or the wait fails. */
zend_result ta_turn_await(ta_turn_waiter *w);
/* From w's coroutine: a waiting w leaves the queue with its turn, taken
 * by itself (the guard decided it may). */
void ta_turn_take(ta_turn_waiter *w);

/* w leaves the queue with its turn, and its coroutine is woken. */
void ta_turn_grant(ta_turn_waiter *w);
/* Every waiter of owner, in order, as ta_turn_grant; granted(w, ctx) runs
 * for each before it is woken. Returns how many. */
unsigned ta_turn_grant_owner(ta_turn_queue *q, const void *owner,
                             void (*granted)(ta_turn_waiter *w, void *ctx), void *ctx);
/* Wakes the first waiter, which stays in the queue (it looks for itself
 * whether its turn has come). */
void ta_turn_wake_first(ta_turn_queue *q);
/* Every waiter leaves, refused, and is woken. */
void ta_turn_refuse_all(ta_turn_queue *q);
/* The run ends: every waiter leaves, refused, and is not woken (its
 * coroutine never runs again, or only to unwind; its stack may go soon,
 * after which nothing may touch the waiter). */
void ta_turn_abandon(ta_turn_queue *q);

#endif
