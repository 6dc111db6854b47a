#include "worker_dispatch.h"

#include <stdint.h>

int ta_dispatch_has_room(ta_mailbox *boxes, int n)
{
    for (int i = 0; i < n; i++)
        if (ta_mailbox_alive(&boxes[i]) && ta_queue_load(&boxes[i].queue) < boxes[i].queue.capacity) return 1;
    return 0;
}

/* The least-loaded thread not tried yet; a recycling thread counts as full
 * until the others are. */
static ta_mailbox *least_loaded(ta_mailbox *boxes, int n, const uint64_t *tried)
{
    ta_mailbox *best = NULL;
    unsigned best_load = 0;
    for (int i = 0; i < n; i++) {
        if (tried[i / 64] & (1ull << (i % 64))) continue;
        ta_mailbox *m = &boxes[i];
        unsigned load = ta_queue_load(&m->queue);
        if (ta_mailbox_state(m) == TA_THREAD_RECYCLING) load += m->queue.capacity;
        if (!best || load < best_load) { best = m; best_load = load; }
    }
    return best;
}

int ta_dispatch(ta_mailbox *boxes, int n, ta_exchange *ex)
{
    uint64_t tried[(TA_MAX_THREADS + 63) / 64] = {0};
    int alive = 0;
    if (n > TA_MAX_THREADS) n = TA_MAX_THREADS;
    for (int k = 0; k < n; k++) {
        ta_mailbox *m = least_loaded(boxes, n, tried);
        tried[m->index / 64] |= 1ull << (m->index % 64);
        if (!ta_mailbox_alive(m)) continue;
        alive++;
        ex->php_thread = m;
        ex->wake_php = ta_mailbox_post;
        if (ta_queue_push(&m->queue, ex) == TA_QUEUE_OK) {
            ta_notifier_signal(&m->wake);
            return TA_DISPATCH_OK;
        }
    }
    return alive ? TA_DISPATCH_FULL : TA_DISPATCH_UNAVAILABLE;
}

int ta_dispatch_withdraw(ta_exchange *ex)
{
    ta_mailbox *m = ex->php_thread;
    return m && ta_queue_withdraw(&m->queue, ex);
}
