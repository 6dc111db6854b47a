/* The workers of this child: their PHP threads' start and stop, dispatch
 * to them (on Apache threads), and the deadline of a graceful stop. */
#include "worker_pool.h"
#include "worker_thread.h"
#include "ta_log.h"
#include "watchdog.h"
#include "ta_clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ta_worker {
    ta_worker_config cfg;
    ta_mailbox *boxes;          /* one per thread, in thread order */
    ta_php_thread **threads;
    int n_threads;              /* mailboxes set up (threads[i] may be NULL) */
    ta_worker_stats *stats;     /* in the shared region, or own_stats */
    void *own_stats;
};

static ta_worker **g_workers;
static int g_n_workers;
static int g_php_up;
static ta_mailbox **g_all_boxes;    /* every thread's, for the watchdog */

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

static int worker_start(ta_worker *w, const ta_worker_config *cfg, ta_worker_stats *stats)
{
    w->cfg = *cfg;
    if (!stats) {
        w->own_stats = calloc(1, sizeof *stats + (size_t) cfg->threads * sizeof stats->threads[0]);
        stats = w->own_stats;
        if (!stats) {
            ta_log(TA_LOG_ERR, TA_LOGNO(00904) "cannot set up the figures of %s: out of memory", cfg->script);
            return -1;
        }
    }
    w->stats = stats;
    w->boxes = calloc((size_t) cfg->threads, sizeof *w->boxes);
    w->threads = calloc((size_t) cfg->threads, sizeof *w->threads);
    if (!w->boxes || !w->threads) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00815) "cannot set up the PHP threads of %s: out of memory", cfg->script);
        return -1;
    }
    for (int j = 0; j < cfg->threads; j++) {
        int rc = ta_mailbox_init(&w->boxes[j], j, (unsigned) cfg->buffer_size);
        if (rc) {
            ta_log(TA_LOG_ERR, TA_LOGNO(00856) "cannot set up PHP thread %d for %s: %s", j, cfg->script, strerror(rc));
            return -1;
        }
        w->n_threads++;
        w->boxes[j].stats = &stats->threads[j];
        w->threads[j] = ta_thread_start(&w->cfg, &w->boxes[j], &rc);
        if (!w->threads[j]) {
            ta_log(TA_LOG_ERR, TA_LOGNO(00816) "cannot start PHP thread %d for %s: %s", j, cfg->script, strerror(rc));
            ta_mailbox_set_state(&w->boxes[j], TA_THREAD_STOPPED);
            return -1;
        }
    }
    return 0;
}

int ta_pool_start(const ta_worker_config *configs, int n, ta_child_stats *stats, ta_worker **out)
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
    int rc = ta_watchdog_start(g_all_boxes, n_boxes);
    if (rc) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00903) "cannot start the watchdog thread: %s", strerror(rc));
        return -1;
    }
    return 0;
}

unsigned ta_pool_held(void)
{
    unsigned n = 0;
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) n += ta_queue_load(&g_workers[i]->boxes[j].queue);
    return n;
}

void ta_pool_cancel_all(void)
{
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) ta_mailbox_request_cancel(&g_workers[i]->boxes[j]);
}

/* The PHP threads' own stop grace (5 s) and as much again for the ends of
 * their requests. */
#define TA_POOL_EXIT_GRACE_MS 10000u

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
           "cancelled (%s); the child exits without waiting for it", (long) getpid(), TA_POOL_EXIT_GRACE_MS / 1000,
           where);
    _exit(0);
}

static void *deadline_main(void *arg)
{
    (void) arg;
    if (deadline_wait(g_deadline.ms)) return NULL;
    if (g_deadline.on_fire) g_deadline.on_fire(ta_pool_held());
    ta_pool_cancel_all();
    if (!deadline_wait(TA_POOL_EXIT_GRACE_MS)) exit_stuck("its Apache thread waits for it");
    return NULL;
}

int ta_pool_cancel_after(unsigned ms, void (*on_fire)(unsigned held))
{
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

void ta_pool_stop(void)
{
    deadline_stop();
    ta_watchdog_stop();
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) ta_mailbox_request_stop(&g_workers[i]->boxes[j]);
    struct timespec until;
    abs_after(&until, TA_POOL_EXIT_GRACE_MS);
    for (int i = 0; i < g_n_workers; i++) {
        ta_worker *w = g_workers[i];
        for (int j = 0; j < w->n_threads; j++) {
            if (w->threads[j] && ta_thread_join_until(w->threads[j], &until) != 0) exit_stuck("stopping its thread");
            ta_mailbox_destroy(&w->boxes[j]);
        }
        free(w->threads);
        free(w->boxes);
        free(w->own_stats);
        free(w);
    }
    free(g_workers);
    g_workers = NULL;
    free(g_all_boxes);
    g_all_boxes = NULL;
    g_n_workers = 0;
    if (g_php_up) ta_threads_php_shutdown();
    g_php_up = 0;
}
