/* Ping-pong between an "Apache" thread and a "PHP" thread running a libuv
 * loop: how fast can a queued request wake the loop, and the loop wake the
 * waiting Apache thread back? Compares ta_notifier (eventfd, pipe) watched
 * with uv_poll_t against uv_async_t. The answer always goes back through an
 * eventfd ta_notifier, as the module's Apache thread blocks in
 * ta_notifier_wait, so the cases differ only in how the loop is woken.
 *   notifier_bench [seconds per case, default 2]                          */
#define _GNU_SOURCE
#include "../notifier.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

enum mech { M_EVENTFD, M_PIPE, M_ASYNC };
static const char *const mech_name[] = {
    "ta_notifier eventfd + uv_poll", "ta_notifier pipe + uv_poll", "uv_async_t (uv_async_send)"
};

#define MAX_SAMPLES (4u << 20)

struct bench {
    enum mech mech;
    uv_loop_t loop;
    uv_poll_t poll;
    uv_async_t async;
    ta_notifier to_loop;      /* cases (a), (b) */
    ta_notifier to_waiter;    /* answers, all cases */
    int stop;                 /* set by the waiter before its last wake-up */
    /* Per round trip: when the waiter signalled, when the loop callback
     * ran, when the loop signalled back. */
    uint64_t sent, woke, answered;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void close_all(struct bench *b)
{
    if (b->mech == M_ASYNC) uv_close((uv_handle_t *)&b->async, NULL);
    else { uv_poll_stop(&b->poll); uv_close((uv_handle_t *)&b->poll, NULL); }
}

/* The loop side: the work a PHP thread does on "request queued". */
static void on_wake(struct bench *b)
{
    __atomic_store_n(&b->woke, now_ns(), __ATOMIC_RELAXED);
    if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) { close_all(b); return; }
    __atomic_store_n(&b->answered, now_ns(), __ATOMIC_RELAXED);
    ta_notifier_signal(&b->to_waiter);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct bench *b = h->data;
    (void)status; (void)events;
    ta_notifier_drain(&b->to_loop);
    on_wake(b);
}

static void on_async(uv_async_t *h) { on_wake(h->data); }

static void *loop_main(void *arg)
{
    struct bench *b = arg;
    uv_run(&b->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void wake_loop(struct bench *b)
{
    if (b->mech == M_ASYNC) uv_async_send(&b->async);
    else ta_notifier_signal(&b->to_loop);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double pct_us(uint64_t *v, size_t n, double p)
{
    if (n == 0) return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e3;
}

static int run_case(enum mech mech, double seconds, uint64_t *to_loop, uint64_t *to_waiter)
{
    struct bench b;
    memset(&b, 0, sizeof b);
    b.mech = mech;
    if (uv_loop_init(&b.loop) || ta_notifier_init(&b.to_waiter, TA_NOTIFIER_EVENTFD)) {
        fprintf(stderr, "notifier_bench: setup failed\n");
        return 1;
    }
    /* Handles are set up before the loop thread starts, so no locking. */
    if (mech == M_ASYNC) {
        uv_async_init(&b.loop, &b.async, on_async);
        b.async.data = &b;
    } else {
        ta_notifier_init(&b.to_loop, mech == M_PIPE ? TA_NOTIFIER_PIPE : TA_NOTIFIER_EVENTFD);
        uv_poll_init(&b.loop, &b.poll, ta_notifier_fd(&b.to_loop));
        b.poll.data = &b;
        uv_poll_start(&b.poll, UV_READABLE, on_poll);
    }
    pthread_t th;
    pthread_create(&th, NULL, loop_main, &b);

    /* Warm-up, then timed round trips. */
    for (int i = 0; i < 20000; i++) {
        wake_loop(&b);
        ta_notifier_wait(&b.to_waiter, -1, -1, 0, NULL);
    }
    size_t n = 0;
    uint64_t start = now_ns(), deadline = start + (uint64_t)(seconds * 1e9), end;
    do {
        uint64_t sent = now_ns();
        wake_loop(&b);
        ta_notifier_wait(&b.to_waiter, -1, -1, 0, NULL);
        end = now_ns();
        if (n < MAX_SAMPLES) {
            to_loop[n] = __atomic_load_n(&b.woke, __ATOMIC_RELAXED) - sent;
            to_waiter[n] = end - __atomic_load_n(&b.answered, __ATOMIC_RELAXED);
            n++;
        }
    } while (end < deadline);

    __atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
    wake_loop(&b);
    pthread_join(th, NULL);
    uv_loop_close(&b.loop);
    if (mech != M_ASYNC) ta_notifier_destroy(&b.to_loop);
    ta_notifier_destroy(&b.to_waiter);

    qsort(to_loop, n, sizeof *to_loop, cmp_u64);
    qsort(to_waiter, n, sizeof *to_waiter, cmp_u64);
    printf("%-31s %13.0f %9.1f %9.1f %10.1f %9.1f %9.1f\n", mech_name[mech],
           (double)n / ((double)(end - start) / 1e9),
           pct_us(to_loop, n, 50), pct_us(to_loop, n, 99), pct_us(to_loop, n, 99.9),
           pct_us(to_waiter, n, 50), pct_us(to_waiter, n, 99));
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0) seconds = 2.0;
    uint64_t *a = malloc(MAX_SAMPLES * sizeof *a), *b = malloc(MAX_SAMPLES * sizeof *b);
    if (!a || !b) return 1;

    printf("ping-pong, %.1f s per case; wake latencies in microseconds\n", seconds);
    printf("%-31s %13s %9s %9s %10s %9s %9s\n", "loop woken by", "round trips/s",
           "loop p50", "loop p99", "loop p99.9", "back p50", "back p99");
    int rc = 0;
    for (int m = M_EVENTFD; m <= M_ASYNC; m++) rc |= run_case((enum mech)m, seconds, a, b);
    puts("loop = waiter signals -> uv callback runs on the loop thread;"
         " back = loop signals eventfd -> waiter returns from ta_notifier_wait");
    free(a);
    free(b);
    return rc;
}
