/* A first-come-first-served queue of coroutines waiting their turn (see
 * coro_turn.h): a doubly linked list of waiters that live on their
 * coroutines' stacks. */
#include "coro_turn.h"

static void unlink_waiter(ta_turn_waiter *w, int state)
{
    ta_turn_queue *q = w->q;
    if (w->prev) w->prev->next = w->next; else q->head = w->next;
    if (w->next) w->next->prev = w->prev; else q->tail = w->prev;
    w->prev = w->next = NULL;
    w->state = state;
}

void ta_turn_join(ta_turn_queue *q, ta_turn_waiter *w, ta_coro *co, const void *owner)
{
    *w = (ta_turn_waiter) { .co = co, .owner = owner, .q = q, .prev = q->tail, .state = TA_TURN_WAITING };
    if (q->tail) q->tail->next = w; else q->head = w;
    q->tail = w;
}

void ta_turn_take(ta_turn_waiter *w)
{
    if (w->state == TA_TURN_WAITING) unlink_waiter(w, TA_TURN_GRANTED);
}

/* The wait's cancel function: the waiter leaves before it runs again. */
static void cancelled(ta_coro *co, void *data)
{
    (void) co;
    ta_turn_waiter *w = data;
    if (w->state == TA_TURN_WAITING) unlink_waiter(w, TA_TURN_CANCELLED);
}

zend_result ta_turn_wait(ta_turn_waiter *w)
{
    zend_result r = ta_coro_wait(cancelled, w);
    /* failed without the cancel call: cancelled once woken, or unwound */
    if (r == FAILURE && w->state == TA_TURN_WAITING) unlink_waiter(w, TA_TURN_GAVE_UP);
    return r;
}

zend_result ta_turn_await(ta_turn_waiter *w)
{
    zend_result r = SUCCESS;
    while (r == SUCCESS && w->state == TA_TURN_WAITING) r = ta_turn_wait(w);
    return r;
}

void ta_turn_grant(ta_turn_waiter *w)
{
    unlink_waiter(w, TA_TURN_GRANTED);
    ta_coro_wake(w->co);
}

unsigned ta_turn_grant_owner(ta_turn_queue *q, const void *owner,
                             void (*granted)(ta_turn_waiter *w, void *ctx), void *ctx)
{
    unsigned n = 0;
    for (ta_turn_waiter *w = q->head, *next; w; w = next) {
        next = w->next;
        if (w->owner != owner) continue;
        unlink_waiter(w, TA_TURN_GRANTED);
        if (granted) granted(w, ctx);
        ta_coro_wake(w->co);
        n++;
    }
    return n;
}

void ta_turn_wake_first(ta_turn_queue *q)
{
    if (q->head) ta_coro_wake(q->head->co);
}

void ta_turn_abandon(ta_turn_queue *q)
{
    while (q->head) unlink_waiter(q->head, TA_TURN_REFUSED);
}

void ta_turn_refuse_all(ta_turn_queue *q)
{
    while (q->head) {
        ta_turn_waiter *w = q->head;
        unlink_waiter(w, TA_TURN_REFUSED);
        ta_coro_wake(w->co);
    }
}
