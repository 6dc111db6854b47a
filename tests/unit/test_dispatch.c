/* Unit tests for worker_dispatch.c and thread_mailbox.c: how Apache threads
 * pick a PHP thread (least loaded, full, dead ones skipped, a recycling one
 * last) and how news reach a PHP thread, without PHP. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../worker_dispatch.h"

#include <stdint.h>
#include <stdlib.h>

#define N 3

static ta_mailbox boxes[N];
static int raised[N];

static void count_raise(void *arg) { raised[(int) (intptr_t) arg]++; }

static void setup(unsigned capacity)
{
    for (int i = 0; i < N; i++) {
        ta_mailbox_init(&boxes[i], i, capacity);
        ta_mailbox_set_state(&boxes[i], TA_PHP_THREAD_READY);
        raised[i] = 0;
    }
}

/* Pops and frees what each queue holds. */
static void teardown(void)
{
    for (int i = 0; i < N; i++) {
        void *out[16];
        unsigned n;
        while ((n = ta_queue_pop(&boxes[i].queue, out, 16)) > 0)
            for (unsigned k = 0; k < n; k++) { ta_exchange_release(out[k]); ta_exchange_release(out[k]); }
        ta_exchange *ex = ta_mailbox_take_inbox(&boxes[i]);
        while (ex) { ta_exchange *next = ex->inbox_next; ta_exchange_release(ex); ex = next; }
        ta_mailbox_destroy(&boxes[i]);
    }
}

static int where(ta_exchange *ex) { return ex->php_thread ? ((ta_mailbox *) ex->php_thread)->index : -1; }

static void test_least_loaded(void)
{
    setup(4);
    ta_exchange *a = ta_exchange_new(), *b = ta_exchange_new(), *c = ta_exchange_new(), *d = ta_exchange_new();
    tap_is_int(ta_dispatch(boxes, N, a), TA_DISPATCH_OK, "dispatch: ok");
    tap_is_int(ta_dispatch(boxes, N, b), TA_DISPATCH_OK, "dispatch: ok again");
    tap_is_int(ta_dispatch(boxes, N, c), TA_DISPATCH_OK, "dispatch: ok a third time");
    tap_ok(where(a) != where(b) && where(b) != where(c) && where(a) != where(c),
           "dispatch: three requests go to three idle threads (%d %d %d)", where(a), where(b), where(c));
    void *tmp[1];                               /* thread 1 takes its request and finishes it */
    ta_queue_pop(&boxes[1].queue, tmp, 1);
    ta_queue_release(&boxes[1].queue);
    ta_exchange_release(tmp[0]); ta_exchange_release(tmp[0]);
    tap_is_int(ta_dispatch(boxes, N, d), TA_DISPATCH_OK, "dispatch: ok");
    tap_is_int(where(d), 1, "dispatch: the next one goes to the least-loaded thread");
    tap_ok(ta_notifier_drain(&boxes[1].wake), "dispatch: that thread was woken");
    teardown();
}

static void test_full_and_dead(void)
{
    setup(1);
    ta_exchange *ex[4];
    for (int i = 0; i < 4; i++) ex[i] = ta_exchange_new();
    for (int i = 0; i < 3; i++) ta_dispatch(boxes, N, ex[i]);
    tap_ok(!ta_dispatch_has_room(boxes, N), "full: no room left");
    tap_is_int(ta_dispatch(boxes, N, ex[3]), TA_DISPATCH_FULL, "full: dispatch says FULL");
    ta_exchange_release(ex[3]); ta_exchange_release(ex[3]);
    teardown();

    setup(2);
    ta_mailbox_set_state(&boxes[0], TA_PHP_THREAD_FAILED);
    ta_mailbox_set_state(&boxes[2], TA_PHP_THREAD_STOPPED);
    ta_exchange *a = ta_exchange_new(), *b = ta_exchange_new(), *c = ta_exchange_new();
    ta_dispatch(boxes, N, a);
    ta_dispatch(boxes, N, b);
    tap_ok(where(a) == 1 && where(b) == 1, "dead: failed and stopped threads are skipped");
    tap_is_int(ta_dispatch(boxes, N, c), TA_DISPATCH_FULL, "dead: the live one is full: FULL");
    ta_mailbox_request_stop(&boxes[1]);
    tap_ok(!ta_dispatch_has_room(boxes, N), "dead: a thread asked to stop has no room");
    tap_is_int(ta_dispatch(boxes, N, c), TA_DISPATCH_UNAVAILABLE, "dead: none alive: UNAVAILABLE");
    ta_exchange_release(c); ta_exchange_release(c);
    teardown();
}

static void test_recycling_last(void)
{
    setup(2);
    ta_mailbox_set_state(&boxes[0], TA_PHP_THREAD_RECYCLING);
    ta_exchange *ex[5];
    for (int i = 0; i < 5; i++) { ex[i] = ta_exchange_new(); ta_dispatch(boxes, N, ex[i]); }
    int on0 = 0;
    for (int i = 0; i < 4; i++) on0 += where(ex[i]) == 0;
    tap_is_int(on0, 0, "recycling: the others take requests first");
    tap_is_int(where(ex[4]), 0, "recycling: it takes one when the others are full");
    teardown();
}

static void test_withdraw_and_post(void)
{
    setup(2);
    ta_exchange *a = ta_exchange_new();
    ta_dispatch(boxes, N, a);
    int t = where(a);
    tap_is_int(ta_dispatch_withdraw(a), 1, "withdraw: a queued request comes back out");
    tap_is_int(ta_queue_load(&boxes[t].queue), 0, "withdraw: its slot is free");
    ta_exchange_release(a); ta_exchange_release(a);

    ta_exchange *b = ta_exchange_new();
    ta_dispatch(boxes, N, b);
    t = where(b);
    ta_mailbox_set_interrupt(&boxes[t], count_raise, (void *) (intptr_t) t);
    ta_notifier_drain(&boxes[t].wake);
    b->wake_php(b);                                 /* news: a chunk was taken */
    tap_is_int(raised[t], 0, "post: news for a live client do not interrupt PHP code");
    ta_exchange_abort(b);                           /* the client left */
    tap_is_int(raised[t], 1, "post: a client that left interrupts PHP code");
    tap_ok(ta_mailbox_take_interrupt(&boxes[t]) && !ta_mailbox_take_interrupt(&boxes[t]),
           "post: the interrupt is taken once");
    ta_exchange *in = ta_mailbox_take_inbox(&boxes[t]);
    tap_ok(in == b && !in->inbox_next, "post: the exchange is in the inbox once");
    ta_exchange_release(in);
    ta_mailbox_set_interrupt(&boxes[t], NULL, NULL);
    ta_mailbox_request_cancel(&boxes[t]);
    tap_ok(__atomic_load_n(&boxes[t].cancel, __ATOMIC_ACQUIRE) && ta_notifier_drain(&boxes[t].wake),
           "cancel: flag set and thread woken");
    teardown();
}

/* A booting thread, like a recycling one, gets requests only when the
 * others are full; an idle slot and a retiring thread get none. */
static void test_booting_idle_retiring(void)
{
    setup(2);
    ta_mailbox_set_state(&boxes[0], TA_PHP_THREAD_BOOTING);
    ta_mailbox_set_state(&boxes[2], TA_PHP_THREAD_IDLE);
    ta_exchange *ex[4];
    for (int i = 0; i < 4; i++) { ex[i] = ta_exchange_new(); ta_dispatch(boxes, N, ex[i]); }
    tap_ok(where(ex[0]) == 1 && where(ex[1]) == 1, "booting: the ready thread takes requests first");
    tap_ok(where(ex[2]) == 0 && where(ex[3]) == 0, "booting: it takes them when the ready one is full");
    teardown();

    setup(2);
    ta_mailbox_request_retire(&boxes[0]);
    ta_mailbox_set_state(&boxes[2], TA_PHP_THREAD_IDLE);
    ta_exchange *a = ta_exchange_new();
    tap_is_int(ta_dispatch(boxes, N, a), TA_DISPATCH_OK, "retiring: dispatch ok");
    tap_is_int(where(a), 1, "retiring: neither a retiring thread nor an idle slot is chosen");
    tap_ok(ta_notifier_drain(&boxes[0].wake), "retiring: the thread was woken to see it");
    ta_mailbox_reset(&boxes[0]);
    tap_ok(!ta_mailbox_retiring(&boxes[0]) && ta_mailbox_state(&boxes[0]) == TA_PHP_THREAD_IDLE,
           "reset: the slot is idle and no longer retiring");
    teardown();
}

/* Requests queued on a busy thread move to one with room, oldest first. */
static void test_move(void)
{
    setup(4);
    ta_exchange *ex[3];
    for (int i = 0; i < 3; i++) {
        ex[i] = ta_exchange_new();
        ex[i]->php_thread = &boxes[0];
        ta_queue_push(&boxes[0].queue, ex[i]);
    }
    tap_is_int((int) ta_dispatch_move(&boxes[0], &boxes[1], 2), 2, "move: two move over");
    tap_ok(where(ex[0]) == 1 && where(ex[1]) == 1 && where(ex[2]) == 0, "move: the oldest first");
    tap_is_int((int) ta_queue_load(&boxes[0].queue), 1, "move: their slots on the busy thread are free");
    tap_is_int((int) ta_queue_load(&boxes[1].queue), 2, "move: and held on the other");
    tap_ok(ta_notifier_drain(&boxes[1].wake), "move: the other thread was woken");
    tap_is_int(ta_dispatch_withdraw(ex[0]), 1, "move: a moved request can still be withdrawn");
    ta_exchange_release(ex[0]); ta_exchange_release(ex[0]);
    teardown();
}

int main(void)
{
    tap_plan(7 + 6 + 2 + 7 + 6 + 6);
    test_booting_idle_retiring();
    test_move();
    test_least_loaded();
    test_full_and_dead();
    test_recycling_last();
    test_withdraw_and_post();
    return tap_done();
}
