#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "watchdog.h"
#include "thread_mailbox.h"
#include "worker_stats.h"
#include "ta_clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    ta_mailbox **boxes;
    void (*tick)(uint64_t now_ms);
    int n, started, stop;
} g_wd = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* What one look at a thread finds: the flags to raise. */
static int look(ta_watch *w, uint64_t now)
{
    int raise = 0;
    uint32_t seq = __atomic_load_n(&w->run_seq, __ATOMIC_RELAXED);
    if (__atomic_load_n(&w->busy, __ATOMIC_ACQUIRE)) {
        if (seq != w->seen_seq) {
            w->seen_seq = seq;
            w->seen_at = now;
        } else {
            uint64_t ran = now - w->seen_at + TA_WATCH_TICK_MS / 2;
            raise |= TA_WATCH_TICK;
            if (w->slowlog_ms && ran >= w->slowlog_ms && w->logged_seq != seq) {
                w->logged_seq = seq;
                __atomic_store_n(&w->slow_seq, seq, __ATOMIC_RELAXED);
                __atomic_store_n(&w->slow_ms, (uint32_t) ran, __ATOMIC_RELAXED);
                raise |= TA_WATCH_SLOW;
            }
        }
    }
    uint64_t d = __atomic_load_n(&w->deadline_ms, __ATOMIC_ACQUIRE);
    if (d && now >= d && !(__atomic_load_n(&w->flags, __ATOMIC_RELAXED) & TA_WATCH_DEADLINE))
        raise |= TA_WATCH_DEADLINE;
    return raise;
}

static void copy_figures(ta_mailbox *m)
{
    ta_php_thread_stats *ts = m->stats;
    if (!ts) return;
    unsigned held = ta_queue_load(&m->queue);
    unsigned queued = __atomic_load_n(&m->queue.queued, __ATOMIC_RELAXED);
    if (queued > held) queued = held;
    __atomic_store_n(&ts->state, ta_mailbox_state(m), __ATOMIC_RELAXED);
    ta_stat_set(&ts->queued, queued);
    ta_stat_set(&ts->inflight, held - queued);
}

static void *watchdog_main(void *arg)
{
    (void) arg;
    pthread_mutex_lock(&g_wd.lock);
    while (!g_wd.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += TA_WATCH_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&g_wd.cond, &g_wd.lock, &ts);
        if (g_wd.stop) break;
        uint64_t now = ta_now_ms();
        for (int i = 0; i < g_wd.n; i++) {
            ta_mailbox *m = g_wd.boxes[i];
            copy_figures(m);
            int raise = look(&m->watch, now);
            if (!raise) continue;
            __atomic_fetch_or(&m->watch.flags, raise, __ATOMIC_ACQ_REL);
            ta_mailbox_raise(m);
            if (raise & TA_WATCH_DEADLINE) ta_mailbox_wake(m);
        }
        if (g_wd.tick) g_wd.tick(now);
    }
    pthread_mutex_unlock(&g_wd.lock);
    return NULL;
}

int ta_watchdog_start(ta_mailbox **boxes, int n, void (*tick)(uint64_t now_ms))
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_wd.cond, &ca);
    pthread_condattr_destroy(&ca);
    g_wd.boxes = boxes;
    g_wd.n = n;
    g_wd.tick = tick;
    g_wd.stop = 0;
    int rc = pthread_create(&g_wd.tid, NULL, watchdog_main, NULL);
    g_wd.started = rc == 0;
    return rc;
}

void ta_watchdog_stop(void)
{
    if (!g_wd.started) return;
    pthread_mutex_lock(&g_wd.lock);
    g_wd.stop = 1;
    pthread_cond_signal(&g_wd.cond);
    pthread_mutex_unlock(&g_wd.lock);
    pthread_join(g_wd.tid, NULL);
    pthread_cond_destroy(&g_wd.cond);
    g_wd.started = 0;
}
