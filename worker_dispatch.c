#include "worker_dispatch.h"

#include <stdint.h>
#include "ta_clock.h"

int ta_dispatch_has_room(ta_mailbox *boxes, int n)
{
    for (int i = 0; i < n; i++)
        if (ta_mailbox_alive(&boxes[i]) && ta_queue_load(&boxes[i].queue) < boxes[i].queue.capacity) return 1;
    return 0;
}

/* The least-loaded live thread not tried yet; a recycling or booting thread
 * counts as full until the others are (a booting one takes requests only
 * when no ready thread can). Of equally loaded ones, one awake in its loop
 * (it takes the request without being woken). */
static int awake(ta_mailbox *m) { return __atomic_load_n(&m->awake, __ATOMIC_RELAXED); }

static ta_mailbox *least_loaded(ta_mailbox *boxes, int n, const uint64_t *tried)
{
    ta_mailbox *best = NULL;
    unsigned best_load = 0;
    for (int i = 0; i < n; i++) {
        if (tried[i / 64] & (1ull << (i % 64))) continue;
        ta_mailbox *m = &boxes[i];
        if (!ta_mailbox_alive(m)) continue;
        unsigned load = ta_queue_load(&m->queue);
        int s = ta_mailbox_state(m);
        if (s == TA_PHP_THREAD_RECYCLING || s == TA_PHP_THREAD_BOOTING) load += m->queue.capacity;
        if (!best || load < best_load || (load == best_load && awake(m) && !awake(best))) {
            best = m;
            best_load = load;
        }
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
        if (!m) break;
        tried[m->index / 64] |= 1ull << (m->index % 64);
        alive++;
        ex->php_thread = m;
        ex->wake_php = ta_mailbox_post;
        if (ta_queue_push(&m->queue, ex) == TA_QUEUE_OK) {
            ta_mailbox_wake(m);
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

unsigned ta_dispatch_move(ta_mailbox *from, ta_mailbox *to, unsigned max)
{
    void *batch[16];
    if (max > 16) max = 16;
    unsigned free_to = to->queue.capacity - ta_queue_load(&to->queue);
    if (max > free_to) max = free_to;
    unsigned n = max ? ta_queue_steal(&from->queue, batch, max) : 0, moved = 0;
    for (unsigned i = 0; i < n; i++) {
        ta_exchange *ex = batch[i];
        __atomic_store_n(&ex->php_thread, to, __ATOMIC_RELEASE);
        if (ta_queue_push(&to->queue, ex) == TA_QUEUE_OK) { moved++; continue; }
        __atomic_store_n(&ex->php_thread, from, __ATOMIC_RELEASE);
        if (ta_queue_push(&from->queue, ex) == TA_QUEUE_OK) continue;
        ta_exchange_fail(ex, 503);
        ta_exchange_release(ex);        /* the PHP side's reference */
    }
    if (moved) ta_mailbox_wake(to);
    return moved;
}

/* How long a request's Apache thread sleeps on the exchange (a futex)
 * before it sleeps on its notifier with the client's socket: a client that
 * hangs up is seen at once after that, within this long before. */
#define TA_QUICK_WAIT_MS 100

static int quick_ms_left(const ta_exchange *ex)
{
    uint64_t now = ta_now_us(), end = ex->req.dispatched_us + TA_QUICK_WAIT_MS * 1000u;
    return now >= end ? 0 : (int) ((end - now + 999) / 1000);
}

int ta_dispatch_wait(ta_exchange *ex, ta_notifier *n, int timeout_ms, int fd, short events, short *revents)
{
    if (revents) *revents = 0;
    int quick = TA_HAVE_FUTEX ? quick_ms_left(ex) : 0;
    if (quick > 0) {
        if (!ta_exchange_apache_sleep(ex, TA_APACHE_FUTEX)) return 1;
        int got = ta_exchange_apache_block(ex, timeout_ms >= 0 && timeout_ms < quick ? timeout_ms : quick);
        ta_exchange_apache_awake(ex);
        return got;
    }
    if (!ta_exchange_apache_sleep(ex, TA_APACHE_NOTIFIER)) return 1;
    int rc = ta_notifier_wait(n, timeout_ms, fd, events, revents);
    ta_exchange_apache_awake(ex);
    return rc;
}
