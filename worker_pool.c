/* The workers of this child: their PHP threads' start and stop, dispatch
 * to them (on Apache threads), and the deadline of a graceful stop. */
#include "worker_pool.h"
#include "worker_thread.h"
#include "ta_log.h"
#include "watchdog.h"
#include "ta_clock.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What the pool keeps per thread slot, on the watchdog's thread. */
typedef struct ta_slot {
    uint64_t idle_since;        /* ms: when it last held or finished a request */
    uint64_t served_seen;
    int retiring;               /* the pool told it to retire */
} ta_slot;

struct ta_worker {
    ta_worker_config cfg;
    ta_mailbox *boxes;          /* one per slot (TrueAsyncThreads MAX), in thread order */
    ta_php_thread **threads;    /* NULL: an idle slot */
    ta_slot *slots;
    int n_threads;              /* mailboxes set up */
    ta_worker_stats *stats;     /* in the shared region, or own_stats */
    void *own_stats;
    uint64_t pressure_since, last_fail, rejected_seen;     /* watchdog's */
};

static ta_worker **g_workers;
static int g_n_workers;
static int g_php_up;
static ta_mailbox **g_all_boxes;    /* every thread's, for the watchdog */
static int g_no_growth;             /* stopping: no thread starts any more */

ta_worker_stats *ta_worker_stats_of(ta_worker *w) { return w->stats; }
int ta_worker_thread_of(ta_exchange *ex) { return ex->php_thread ? ((ta_mailbox *) ex->php_thread)->index : -1; }

int ta_worker_alive(ta_worker *w)
{
    for (int i = 0; i < w->n_threads; i++)
        if (ta_mailbox_alive(&w->boxes[i])) return 1;
    return 0;
}

int ta_worker_has_room(ta_worker *w) { return ta_dispatch_has_room(w->boxes, w->n_threads); }
int ta_worker_dispatch(ta_worker *w, ta_exchange *ex) { return ta_dispatch(w->boxes, w->n_threads, ex); }
int ta_worker_withdraw(ta_exchange *ex) { return ta_dispatch_withdraw(ex); }
int ta_worker_wait(ta_exchange *ex, ta_notifier *n, int timeout_ms, int fd, short events, short *revents)
{
    return ta_dispatch_wait(ex, n, timeout_ms, fd, events, revents);
}

int ta_worker_wait_check(ta_exchange *ex, uint64_t *until, int *refused)
{
    if (!*until) return -1;
    uint64_t now = ta_now_us();
    if (now < *until) return (int) ((*until - now + 999) / 1000);
    *until = 0;
    if (ta_dispatch_withdraw(ex)) {
        ta_exchange_release(ex);
        *refused = 1;
    }
    return -1;
}

/* Starts the slot's thread: it boots the script, dispatch prefers the
 * others meanwhile. 0 or -1 (logged). */
static int slot_start(ta_worker *w, int j, int cause, uint64_t now)
{
    ta_mailbox *m = &w->boxes[j];
    m->may_exit = cause == TA_START_LOAD;
    ta_mailbox_set_state(m, TA_PHP_THREAD_BOOTING);
    int rc = 0;
    w->threads[j] = ta_php_thread_start(&w->cfg, m, &rc);
    if (!w->threads[j]) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00816) "cannot start PHP thread %d for %s: %s", j, w->cfg.script, strerror(rc));
        ta_mailbox_set_state(m, cause == TA_START_MIN ? TA_PHP_THREAD_STOPPED : TA_PHP_THREAD_IDLE);
        return -1;
    }
    w->slots[j] = (ta_slot) { .idle_since = now, .served_seen = ta_stat_get(&m->stats->served) };
    ta_stat_add(&w->stats->thread_starts[cause], 1);
    if (cause == TA_START_LOAD)
        ta_log(TA_LOG_INFO, TA_LOGNO(00925) "PHP thread %d of %s starts: requests waited in the queues of its "
               "busy threads (TrueAsyncThreads %d %d)", j, w->cfg.script, w->cfg.threads, w->n_threads);
    return 0;
}

static int worker_start(ta_worker *w, const ta_worker_config *cfg, ta_worker_stats *stats)
{
    w->cfg = *cfg;
    int slots = ta_cfg_slots(cfg);
    if (!stats) {
        w->own_stats = calloc(1, sizeof *stats + (size_t) slots * sizeof stats->threads[0]);
        stats = w->own_stats;
        if (!stats) {
            ta_log(TA_LOG_ERR, TA_LOGNO(00904) "cannot set up the figures of %s: out of memory", cfg->script);
            return -1;
        }
    }
    w->stats = stats;
    w->boxes = calloc((size_t) slots, sizeof *w->boxes);
    w->threads = calloc((size_t) slots, sizeof *w->threads);
    w->slots = calloc((size_t) slots, sizeof *w->slots);
    if (!w->boxes || !w->threads || !w->slots) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00815) "cannot set up the PHP threads of %s: out of memory", cfg->script);
        return -1;
    }
    for (int j = 0; j < slots; j++) {
        int rc = ta_mailbox_init(&w->boxes[j], j, (unsigned) cfg->buffer_size);
        if (rc) {
            ta_log(TA_LOG_ERR, TA_LOGNO(00856) "cannot set up PHP thread %d for %s: %s", j, cfg->script, strerror(rc));
            return -1;
        }
        w->n_threads++;
        w->boxes[j].stats = &stats->threads[j];
        w->boxes[j].watch.slowlog_ms = cfg->slowlog_ms;
        ta_mailbox_set_state(&w->boxes[j], TA_PHP_THREAD_IDLE);
    }
    uint64_t now = ta_now_ms();
    for (int j = 0; j < cfg->threads; j++)
        if (slot_start(w, j, TA_START_MIN, now) != 0) return -1;
    return 0;
}

/* ---- TrueAsyncThreads MIN MAX, on the watchdog's thread (each tick) -------------- */

/* A thread that left (retired, or above MIN and its boot failed): joined at
 * once (it flagged its exit last), its slot made ready for another, and its
 * memory handed back to the system (glibc keeps a freed thread's arena). */
static void slot_reap(ta_worker *w, int j, uint64_t now)
{
    ta_mailbox *m = &w->boxes[j];
    int cause = w->slots[j].retiring ? TA_STOP_IDLE : TA_STOP_BOOT_FAILED;
    ta_php_thread_join(w->threads[j]);
    w->threads[j] = NULL;
    ta_mailbox_reset(m);
    ta_stat_set(&m->stats->coroutines, 0);
    ta_stat_set(&m->stats->memory, 0);
    ta_stat_add(&w->stats->thread_stops[cause], 1);
    w->slots[j] = (ta_slot) {0};
    if (cause == TA_STOP_BOOT_FAILED) w->last_fail = now;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    ta_log(TA_LOG_INFO, TA_LOGNO(00926) "PHP thread %d of %s has left (%s)", j, w->cfg.script,
           cause == TA_STOP_IDLE ? "it served nothing for TrueAsyncThreadIdleTimeout" : "its boot failed");
}

/* How many more requests a ready thread could start now (its limit in force). */
static unsigned slot_room(ta_mailbox *m)
{
    unsigned held = ta_queue_load(&m->queue);
    if (__atomic_load_n(&m->queue.queued, __ATOMIC_RELAXED) > 0) return 0;
    unsigned limit = (unsigned) ta_stat_get(&m->stats->concurrency);
    if (!limit) return held ? 0 : 1;
    return limit > held ? limit - held : 0;
}

/* Requests wait in a busy thread's queue while another has room (a thread
 * that just booted, or one whose requests were quick): they move over. */
static void rebalance(ta_worker *w)
{
    for (int j = 0; j < w->n_threads; j++) {
        ta_mailbox *to = &w->boxes[j];
        if (!w->threads[j] || w->slots[j].retiring || ta_mailbox_state(to) != TA_PHP_THREAD_READY) continue;
        unsigned room = slot_room(to);
        while (room > 0) {
            ta_mailbox *from = NULL;
            unsigned most = 0;
            for (int i = 0; i < w->n_threads; i++) {
                unsigned q = __atomic_load_n(&w->boxes[i].queue.queued, __ATOMIC_RELAXED);
                if (i != j && w->threads[i] && q > most) { most = q; from = &w->boxes[i]; }
            }
            if (!from) break;
            unsigned moved = ta_dispatch_move(from, to, room < most ? room : most);
            if (!moved) break;
            room -= moved;
        }
    }
}

/* What one tick sees of a worker's threads, for the policy (worker_scale.h). */
typedef struct { ta_scale_view v; int retiring, pick, free_slot, pressed; } tick_view;

static void look_slot(ta_worker *w, int j, uint64_t now, uint64_t timeout_ms, tick_view *tv)
{
    ta_mailbox *m = &w->boxes[j];
    if (w->threads[j] && __atomic_load_n(&m->exited, __ATOMIC_ACQUIRE)) slot_reap(w, j, now);
    if (!w->threads[j]) { tv->free_slot = j; return; }
    ta_slot *sl = &w->slots[j];
    int s = ta_mailbox_state(m);
    tv->v.live++;
    tv->retiring += sl->retiring;
    tv->v.booting += s == TA_PHP_THREAD_BOOTING;
    if (s != TA_PHP_THREAD_READY || sl->retiring) { sl->idle_since = now; return; }
    unsigned held = ta_queue_load(&m->queue);
    tv->pressed |= __atomic_load_n(&m->queue.queued, __ATOMIC_RELAXED) > 0;
    uint64_t served = ta_stat_get(&m->stats->served);
    if (held || served != sl->served_seen) { sl->served_seen = served; sl->idle_since = now; }
    if (!held) tv->v.idle_ready++;
    if (tv->pick < 0 && timeout_ms && now - sl->idle_since >= timeout_ms) tv->pick = j;
}

static void worker_tick(ta_worker *w, uint64_t now)
{
    uint64_t timeout_ms = (uint64_t) w->cfg.idle_timeout * 1000u;
    tick_view tv = { .v = { .min = w->cfg.threads, .max = w->n_threads }, .pick = -1, .free_slot = -1 };
    for (int j = w->n_threads - 1; j >= 0; j--) look_slot(w, j, now, timeout_ms, &tv);
    if (w->n_threads > 1) rebalance(w);
    uint64_t rejected = ta_stat_get(&w->stats->rejected[TA_REJECT_QUEUES_FULL])
                      + ta_stat_get(&w->stats->rejected[TA_REJECT_WAIT_TIME]);
    tv.v.refused = rejected != w->rejected_seen;
    w->rejected_seen = rejected;
    tv.v.pressure_ms = ta_scale_pressure(&w->pressure_since, tv.pressed, now);
    tv.v.since_fail_ms = w->last_fail ? now - w->last_fail : UINT64_MAX;
    if (tv.pick >= 0 && ta_scale_retire(tv.v.live, tv.retiring, tv.v.min, now - w->slots[tv.pick].idle_since, timeout_ms)) {
        w->slots[tv.pick].retiring = 1;
        ta_mailbox_request_retire(&w->boxes[tv.pick]);
    } else if (tv.free_slot >= 0 && !__atomic_load_n(&g_no_growth, __ATOMIC_ACQUIRE) && ta_scale_grow(&tv.v)) {
        slot_start(w, tv.free_slot, tv.v.live < tv.v.min ? TA_START_MIN : TA_START_LOAD, now);
    }
}

static void pool_tick(uint64_t now)
{
    for (int i = 0; i < g_n_workers; i++)
        if (g_workers[i]->n_threads > g_workers[i]->cfg.threads) worker_tick(g_workers[i], now);
        else if (g_workers[i]->n_threads > 1) rebalance(g_workers[i]);
}

int ta_worker_pool_start(const ta_worker_config *configs, int n, ta_child_stats *stats, ta_worker **out)
{
    if (ta_threads_php_startup() != 0) return -1;
    g_php_up = 1;
    g_workers = calloc(n ? (size_t) n : 1, sizeof *g_workers);
    if (!g_workers) return -1;
    int n_boxes = 0;
    for (int i = 0; i < n; i++) {
        ta_worker *w = calloc(1, sizeof *w);
        if (!w) return -1;
        g_workers[g_n_workers++] = w;
        out[i] = w;
        if (worker_start(w, &configs[i], stats ? ta_stats_worker(stats, configs, i) : NULL) != 0) return -1;
        n_boxes += w->n_threads;
    }
    g_all_boxes = calloc(n_boxes ? (size_t) n_boxes : 1, sizeof *g_all_boxes);
    if (!g_all_boxes) return -1;
    n_boxes = 0;
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) g_all_boxes[n_boxes++] = &g_workers[i]->boxes[j];
    int rc = ta_watchdog_start(g_all_boxes, n_boxes, pool_tick);
    if (rc) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00903) "cannot start the watchdog thread: %s", strerror(rc));
        return -1;
    }
    return 0;
}

unsigned ta_worker_pool_held(void)
{
    unsigned n = 0;
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) n += ta_queue_load(&g_workers[i]->boxes[j].queue);
    return n;
}

void ta_worker_pool_cancel_all(void)
{
    __atomic_store_n(&g_no_growth, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) ta_mailbox_request_cancel(&g_workers[i]->boxes[j]);
}

/* The PHP threads' own stop grace (5 s) and as much again for the ends of
 * their requests. */
#define TA_WORKER_POOL_EXIT_GRACE_MS 10000u

/* The graceful-stop deadline: a thread that waits for it, or for the pool
 * to stop first (then it never fires). */
static struct {
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned ms;
    int started, done;
    void (*on_fire)(unsigned held);
} g_deadline = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void abs_after(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long) (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

/* Waits until the pool stopped or `ms` passed; true when it stopped. */
static int deadline_wait(unsigned ms)
{
    struct timespec ts;
    abs_after(&ts, ms);
    pthread_mutex_lock(&g_deadline.lock);
    int rc = 0;
    while (!g_deadline.done && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&g_deadline.cond, &g_deadline.lock, &ts);
    int done = g_deadline.done;
    pthread_mutex_unlock(&g_deadline.lock);
    return done;
}

static void exit_stuck(const char *where)
{
    ta_log(TA_LOG_ERR, TA_LOGNO(00880) "child %ld: a PHP request still holds its thread %u s after it was "
           "cancelled (%s); the child exits without waiting for it", (long) getpid(), TA_WORKER_POOL_EXIT_GRACE_MS / 1000,
           where);
    _exit(0);
}

static void *deadline_main(void *arg)
{
    (void) arg;
    if (deadline_wait(g_deadline.ms)) return NULL;
    if (g_deadline.on_fire) g_deadline.on_fire(ta_worker_pool_held());
    ta_worker_pool_cancel_all();
    if (!deadline_wait(TA_WORKER_POOL_EXIT_GRACE_MS)) exit_stuck("its Apache thread waits for it");
    return NULL;
}

int ta_worker_pool_cancel_after(unsigned ms, void (*on_fire)(unsigned held))
{
    __atomic_store_n(&g_no_growth, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&g_deadline.lock);
    int rc = 0;
    if (!g_deadline.started && !g_deadline.done) {
        g_deadline.ms = ms;
        g_deadline.on_fire = on_fire;
        rc = pthread_create(&g_deadline.tid, NULL, deadline_main, NULL);
        if (rc == 0) g_deadline.started = 1;
    }
    pthread_mutex_unlock(&g_deadline.lock);
    return rc;
}

static void deadline_stop(void)
{
    pthread_mutex_lock(&g_deadline.lock);
    g_deadline.done = 1;
    pthread_cond_signal(&g_deadline.cond);
    int joinable = g_deadline.started;
    pthread_mutex_unlock(&g_deadline.lock);
    if (joinable) pthread_join(g_deadline.tid, NULL);
}

void ta_worker_pool_stop(void)
{
    deadline_stop();
    ta_watchdog_stop();
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) ta_mailbox_request_stop(&g_workers[i]->boxes[j]);
    struct timespec until;
    abs_after(&until, TA_WORKER_POOL_EXIT_GRACE_MS);
    for (int i = 0; i < g_n_workers; i++) {
        ta_worker *w = g_workers[i];
        for (int j = 0; j < w->n_threads; j++) {
            if (w->threads[j] && ta_php_thread_join_until(w->threads[j], &until) != 0) exit_stuck("stopping its thread");
            ta_mailbox_destroy(&w->boxes[j]);
        }
        free(w->threads);
        free(w->slots);
        free(w->boxes);
        free(w->own_stats);
        free(w);
    }
    free(g_workers);
    g_workers = NULL;
    free(g_all_boxes);
    g_all_boxes = NULL;
    g_n_workers = 0;
    g_no_growth = 0;
    if (g_php_up) ta_threads_php_shutdown();
    g_php_up = 0;
}
