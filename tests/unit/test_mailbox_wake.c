/* Unit tests for the wake-up handshake of thread_mailbox.c: a PHP thread
 * awake in its loop is not signalled, one that is about to block is, and
 * under racing producers no wake-up is ever lost (a lost one shows as a
 * consumer that sleeps with work queued). */
#define _GNU_SOURCE
#include "tap.h"
#include "../../thread_mailbox.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

static void test_states(void)
{
    ta_mailbox m;
    ta_mailbox_init(&m, 0, 8);
    ta_mailbox_wake(&m);
    tap_ok(ta_notifier_drain(&m.wake), "a thread outside its loop is signalled");
    tap_ok(ta_mailbox_take_news(&m), "... and sees news");
    tap_ok(!ta_mailbox_take_news(&m), "news are taken once");

    ta_mailbox_set_awake(&m, 1);
    ta_mailbox_wake(&m);
    tap_ok(!ta_notifier_drain(&m.wake), "a thread awake in its loop is not signalled");
    tap_ok(!ta_mailbox_sleep(&m), "... and does not block: the news came before it would");
    tap_ok(ta_mailbox_take_news(&m), "... it looks and sees them");

    tap_ok(ta_mailbox_sleep(&m), "no news: it blocks");
    ta_mailbox_wake(&m);
    tap_ok(ta_notifier_drain(&m.wake), "a wake while it blocks writes the notifier");
    ta_mailbox_set_awake(&m, 1);
    ta_mailbox_destroy(&m);
}

/* The race: producers push and wake while the consumer loops as the PHP
 * thread does (take news, pop everything, run a little, block unless news
 * came). Each producer waits for its item to be consumed before the next,
 * so a lost wake-up is not rescued by a later push: the consumer sleeps
 * out its bound with work queued. */
#define PRODUCERS 3
#define PER_PRODUCER 4000

static ta_mailbox box;
static unsigned long consumed, lost;
static unsigned done_by[PRODUCERS];

static void *producer(void *arg)
{
    uintptr_t id = (uintptr_t) arg;
    for (unsigned i = 0; i < PER_PRODUCER; i++) {
        while (ta_queue_push(&box.queue, &done_by[id]) != TA_QUEUE_OK) sched_yield();
        ta_mailbox_wake(&box);
        while (__atomic_load_n(&done_by[id], __ATOMIC_ACQUIRE) != i + 1) sched_yield();
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void) arg;
    const unsigned long total = (unsigned long) PRODUCERS * PER_PRODUCER;
    void *out[64];
    uint64_t seed = 88172645463325252ull;
    ta_mailbox_set_awake(&box, 1);
    while (consumed < total) {
        ta_mailbox_take_news(&box);
        unsigned n;
        while ((n = ta_queue_pop(&box.queue, out, 64)) > 0) {
            for (unsigned k = 0; k < n; k++) {
                ta_queue_release(&box.queue);
                __atomic_add_fetch((unsigned *) out[k], 1, __ATOMIC_RELEASE);
            }
            consumed += n;
        }
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
        for (volatile unsigned spin = (unsigned) (seed % 2000); spin; spin--) {}   /* its coroutines run */
        if (consumed >= total || !ta_mailbox_sleep(&box)) continue;
        if (ta_notifier_wait(&box.wake, 1000, -1, 0, NULL) == 0 && ta_queue_load(&box.queue) > 0) lost++;
        ta_mailbox_set_awake(&box, 1);
    }
    return NULL;
}

static void test_race(void)
{
    ta_mailbox_init(&box, 0, 16);
    pthread_t c, p[PRODUCERS];
    pthread_create(&c, NULL, consumer, NULL);
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&p[i], NULL, producer, (void *) (uintptr_t) i);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(p[i], NULL);
    pthread_join(c, NULL);
    tap_is_int((int) consumed, PRODUCERS * PER_PRODUCER, "race: every item was consumed");
    tap_is_int((int) lost, 0, "race: the consumer never slept with work queued");
    ta_mailbox_destroy(&box);
}

int main(void)
{
    tap_plan(8 + 2);
    test_states();
    test_race();
    return tap_done();
}
