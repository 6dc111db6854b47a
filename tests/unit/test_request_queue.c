/* Unit tests for request_queue.c: a bounded FIFO whose slots stay held from
 * push until release. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../request_queue.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#define ITEM(v) ((void *)(uintptr_t)(v))
#define VAL(p) ((uintptr_t)(p))

static void test_basics(void)
{
    ta_queue q;
    void *out[8];

    tap_is_int(ta_queue_init(&q, 0), EINVAL, "capacity 0 is rejected with EINVAL");
    tap_is_int(ta_queue_init(&q, 4), 0, "init with capacity 4");
    tap_is_int(ta_queue_load(&q), 0, "new queue has load 0");
    tap_is_int(ta_queue_pop(&q, out, 8), 0, "pop on an empty queue returns 0");

    int rc = 0;
    for (uintptr_t i = 1; i <= 4; i++) rc |= ta_queue_push(&q, ITEM(i));
    tap_is_int(rc, TA_QUEUE_OK, "push up to capacity succeeds");
    tap_is_int(ta_queue_push(&q, ITEM(5)), TA_QUEUE_FULL, "push beyond capacity is TA_QUEUE_FULL");
    tap_is_int(ta_queue_load(&q), 4, "load counts the 4 queued items");

    tap_is_int(ta_queue_pop(&q, out, 0), 0, "pop with max 0 takes nothing");
    unsigned n = ta_queue_pop(&q, out, 2);
    tap_ok(n == 2 && VAL(out[0]) == 1 && VAL(out[1]) == 2, "pop(2) returns the two oldest in order");
    tap_is_int(ta_queue_push(&q, ITEM(5)), TA_QUEUE_FULL, "popped items stay held: push still FULL");
    tap_is_int(ta_queue_load(&q), 4, "load still 4 after pop");
    n = ta_queue_pop(&q, out, 8);
    tap_ok(n == 2 && VAL(out[0]) == 3 && VAL(out[1]) == 4, "pop(8) returns the remaining two in order");
    tap_is_int(ta_queue_pop(&q, out, 8), 0, "nothing left to pop");
    tap_is_int(ta_queue_push(&q, ITEM(5)), TA_QUEUE_FULL, "all popped but unreleased: still FULL");

    ta_queue_release(&q);
    tap_is_int(ta_queue_load(&q), 3, "release frees one slot (load 3)");
    tap_is_int(ta_queue_push(&q, ITEM(5)), TA_QUEUE_OK, "push succeeds after a release");
    tap_is_int(ta_queue_push(&q, ITEM(6)), TA_QUEUE_FULL, "and the queue is full again");

    /* 3 popped-and-held, 1 queued. Releasing more than was popped must not
     * free the slot of an item still waiting in the queue. */
    for (int i = 0; i < 5; i++) ta_queue_release(&q);
    tap_is_int(ta_queue_load(&q), 1, "extra releases never free a still-queued slot");

    ta_queue_close(&q);
    tap_is_int(ta_queue_push(&q, ITEM(7)), TA_QUEUE_CLOSED, "push on a closed queue is TA_QUEUE_CLOSED");
    n = ta_queue_pop(&q, out, 8);
    tap_ok(n == 1 && VAL(out[0]) == 5, "a closed queue still drains its queued item");
    ta_queue_release(&q);
    tap_is_int(ta_queue_load(&q), 0, "load 0 once everything is released");
    tap_is_int(ta_queue_push(&q, ITEM(8)), TA_QUEUE_CLOSED, "still closed after draining");
    ta_queue_open(&q);
    tap_is_int(ta_queue_push(&q, ITEM(9)), TA_QUEUE_OK, "push works again after open");
    n = ta_queue_pop(&q, out, 8);
    tap_ok(n == 1 && VAL(out[0]) == 9, "the item pushed after reopening pops");
    ta_queue_release(&q);

    ta_queue_destroy(&q);
    ta_queue_destroy(&q);
    tap_ok(1, "destroy twice is harmless");
}

/* Varying batch sizes over a small ring so head wraps thousands of times. */
static void test_wraparound(void)
{
    ta_queue q;
    void *out[5];
    uintptr_t next_in = 1, next_out = 1;
    int order_ok = 1, count_ok = 1;

    ta_queue_init(&q, 5);
    for (int cycle = 0; cycle < 20000; cycle++) {
        unsigned k = 1 + (unsigned)cycle % 5;
        for (unsigned i = 0; i < k; i++)
            if (ta_queue_push(&q, ITEM(next_in++)) != TA_QUEUE_OK) count_ok = 0;
        /* Pop in two steps so the pop side also crosses the wrap point. */
        unsigned got = ta_queue_pop(&q, out, (k + 1) / 2);
        got += ta_queue_pop(&q, out + got, 5 - got);
        if (got != k) count_ok = 0;
        for (unsigned i = 0; i < got; i++) {
            if (VAL(out[i]) != next_out++) order_ok = 0;
            ta_queue_release(&q);
        }
        if (ta_queue_load(&q) != 0) count_ok = 0;
    }
    tap_ok(count_ok, "20000 wrap-around cycles: every batch fits and load returns to 0");
    tap_ok(order_ok, "wrap-around preserves FIFO order (%lu items)", (unsigned long)(next_out - 1));
    ta_queue_destroy(&q);
}

#define PRODUCERS 4
#define PER_PRODUCER 10000
#define STRESS_CAP 16

struct producer {
    ta_queue *q;
    unsigned id;
    unsigned long full_retries;
    int errors;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (uintptr_t i = 0; i < PER_PRODUCER; i++) {
        /* +1 keeps every item non-NULL. */
        void *item = ITEM(((uintptr_t)p->id << 20 | i) + 1);
        int rc;
        while ((rc = ta_queue_push(p->q, item)) == TA_QUEUE_FULL) {
            p->full_retries++;
            sched_yield();
        }
        if (rc != TA_QUEUE_OK) p->errors++;
    }
    return NULL;
}

static void test_stress(void)
{
    ta_queue q;
    pthread_t th[PRODUCERS];
    struct producer prod[PRODUCERS];
    unsigned char *seen = calloc(PRODUCERS * PER_PRODUCER, 1);
    long last[PRODUCERS];
    int dup = 0, bogus = 0, reordered = 0, errors = 0;
    unsigned total = 0, max_load = 0;
    unsigned long retries = 0;

    ta_queue_init(&q, STRESS_CAP);
    for (int i = 0; i < PRODUCERS; i++) {
        prod[i] = (struct producer){ &q, (unsigned)i, 0, 0 };
        last[i] = -1;
        pthread_create(&th[i], NULL, producer_main, &prod[i]);
    }
    while (total < PRODUCERS * PER_PRODUCER) {
        void *out[STRESS_CAP];
        unsigned load = ta_queue_load(&q);
        if (load > max_load) max_load = load;
        unsigned n = ta_queue_pop(&q, out, STRESS_CAP);
        if (n == 0) { sched_yield(); continue; }
        for (unsigned i = 0; i < n; i++) {
            uintptr_t v = VAL(out[i]) - 1;
            unsigned id = (unsigned)(v >> 20), seq = (unsigned)(v & 0xfffff);
            if (id >= PRODUCERS || seq >= PER_PRODUCER) { bogus++; continue; }
            unsigned char *s = &seen[id * PER_PRODUCER + seq];
            if (*s) dup++;
            *s = 1;
            /* One producer's pushes are ordered, so they must pop in order. */
            if ((long)seq <= last[id]) reordered++;
            last[id] = seq;
        }
        total += n;
        /* Release in a separate pass, as finished requests would. */
        for (unsigned i = 0; i < n; i++) ta_queue_release(&q);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        retries += prod[i].full_retries;
        errors += prod[i].errors;
    }
    int missing = 0;
    for (int i = 0; i < PRODUCERS * PER_PRODUCER; i++) missing += !seen[i];

    tap_ok(errors == 0, "stress: producers saw only OK or FULL (%lu FULL retries)", retries);
    tap_ok(!dup && !bogus && !missing && total == PRODUCERS * PER_PRODUCER,
           "stress: all %u items arrived exactly once (dup %d, bogus %d, missing %d)",
           total, dup, bogus, missing);
    tap_ok(!reordered, "stress: each producer's items arrived in push order");
    tap_ok(max_load <= STRESS_CAP, "stress: load never exceeded capacity (max %u)", max_load);
    tap_is_int(ta_queue_load(&q), 0, "stress: load 0 at the end");
    ta_queue_destroy(&q);
    free(seen);
}

/* A client that leaves while queued: its item is taken out from any place
 * in a wrapped ring, the others keep their order, and its slot is free. */
static void test_withdraw(void)
{
    ta_queue q;
    int v[6];
    void *out[8];
    ta_queue_init(&q, 4);
    /* move head to the ring's end so the queued items wrap around */
    for (int i = 0; i < 3; i++) { ta_queue_push(&q, &v[0]); ta_queue_pop(&q, out, 1); ta_queue_release(&q); }
    for (int i = 1; i <= 4; i++) ta_queue_push(&q, &v[i]);
    tap_is_int(ta_queue_push(&q, &v[5]), TA_QUEUE_FULL, "withdraw: ring full before");
    tap_is_int(ta_queue_withdraw(&q, &v[2]), 1, "withdraw: a queued item in the middle comes out");
    tap_is_int(ta_queue_load(&q), 3, "withdraw: its slot is free at once");
    tap_is_int(ta_queue_withdraw(&q, &v[2]), 0, "withdraw: a second time finds nothing");
    tap_is_int(ta_queue_push(&q, &v[5]), TA_QUEUE_OK, "withdraw: the freed slot takes a new item");
    unsigned n = ta_queue_pop(&q, out, 8);
    tap_ok(n == 4 && out[0] == &v[1] && out[1] == &v[3] && out[2] == &v[4] && out[3] == &v[5],
           "withdraw: the others pop in their order (%u items)", n);
    tap_is_int(ta_queue_withdraw(&q, &v[3]), 0, "withdraw: a popped item stays with its thread");
    tap_is_int(ta_queue_load(&q), 4, "withdraw: popped items still hold their slots");
    ta_queue_destroy(&q);
}

int main(void)
{
    tap_plan(25 + 2 + 5 + 8);   /* basics, wrap-around, stress, withdraw */
    test_basics();
    test_wraparound();
    test_withdraw();
    test_stress();
    return tap_done();
}
