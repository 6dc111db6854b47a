#include "worker_thread.h"
#include "php_sapi.h"
#include "php_http_api.h"
#include "ta_log.h"
#include "reactor_apr.h"
#include "php_signals.h"
#include "coro_bailout.h"

#include <errno.h>
#include <time.h>
#include <string.h>

__thread ta_php_thread *ta_thread_current;

static ta_worker **g_workers;
static int g_n_workers;
static int g_php_up;

enum { RUN_STOPPED, RUN_BOOT_FAILED, RUN_BAILED, RUN_RECYCLED };

#define TA_BATCH 64
#define TA_STOP_GRACE_MS 5000

static int load_state(ta_php_thread *t) { return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE); }
static void set_state(ta_php_thread *t, int s) { __atomic_store_n(&t->state, s, __ATOMIC_RELEASE); }
static int stopping(ta_php_thread *t) { return __atomic_load_n(&t->stop, __ATOMIC_ACQUIRE); }

/* ---- Apache side -------------------------------------------------------- */

/* Makes the PHP thread look at its inbox and cancel flag even while one of
 * its coroutines runs without suspending: the engine calls our interrupt
 * hook at the next opcode boundary, inside that coroutine. */
static void raise_interrupt(ta_php_thread *t)
{
    pthread_mutex_lock(&t->inbox_lock);
    __atomic_store_n(&t->interrupt, 1, __ATOMIC_RELEASE);
    if (t->vm_interrupt) zend_atomic_bool_store(t->vm_interrupt, true);
    pthread_mutex_unlock(&t->inbox_lock);
}

/* Called on an Apache thread (which holds a reference to ex). */
static void wake_php(ta_exchange *ex)
{
    ta_php_thread *t = ex->php_thread;
    if (ta_exchange_is_aborted(ex)) raise_interrupt(t);
    pthread_mutex_lock(&t->inbox_lock);
    if (!ex->in_inbox) {
        ex->in_inbox = 1;
        ta_exchange_ref(ex);
        ex->inbox_next = t->inbox;
        t->inbox = ex;
    }
    pthread_mutex_unlock(&t->inbox_lock);
    ta_notifier_signal(&t->wake);
}

static int thread_alive(ta_php_thread *t)
{
    int s = load_state(t);
    return (s == TA_THREAD_BOOTING || s == TA_THREAD_READY || s == TA_THREAD_RECYCLING) && !stopping(t);
}

int ta_worker_has_room(ta_worker *w)
{
    for (int i = 0; i < w->n_threads; i++) {
        ta_php_thread *t = &w->threads[i];
        if (thread_alive(t) && ta_queue_load(&t->queue) < t->queue.capacity) return 1;
    }
    return 0;
}

int ta_worker_withdraw(ta_exchange *ex)
{
    ta_php_thread *t = ex->php_thread;
    return t && ta_queue_withdraw(&t->queue, ex);
}

int ta_worker_dispatch(ta_worker *w, ta_exchange *ex)
{
    int tried = 0, alive = 0;
    uint64_t tried_mask[4] = {0};
    while (tried < w->n_threads) {
        ta_php_thread *best = NULL;
        unsigned best_load = 0;
        for (int i = 0; i < w->n_threads; i++) {
            if (tried_mask[i / 64] & (1ull << (i % 64))) continue;
            ta_php_thread *t = &w->threads[i];
            unsigned load = ta_queue_load(&t->queue);
            /* a recycling thread only takes what the others have no room for */
            if (load_state(t) == TA_THREAD_RECYCLING) load += t->queue.capacity;
            if (!best || load < best_load) { best = t; best_load = load; }
        }
        tried_mask[best->index / 64] |= 1ull << (best->index % 64);
        tried++;
        if (!thread_alive(best)) continue;
        alive++;
        ex->php_thread = best;
        ex->wake_php = wake_php;
        if (ta_queue_push(&best->queue, ex) == TA_QUEUE_OK) {
            ta_notifier_signal(&best->wake);
            return TA_DISPATCH_OK;
        }
    }
    return alive ? TA_DISPATCH_FULL : TA_DISPATCH_UNAVAILABLE;
}

/* ---- PHP side ----------------------------------------------------------- */

void ta_thread_request_done(ta_php_thread *t, ta_exchange *ex)
{
    if (ex->php_prev) ex->php_prev->php_next = ex->php_next; else t->inflight = ex->php_next;
    if (ex->php_next) ex->php_next->php_prev = ex->php_prev;
    ex->php_prev = ex->php_next = NULL;
    ex->php_ctx = NULL;
    ta_queue_release(&t->queue);
    ta_exchange_release(ex);
}

static void fail_inflight(ta_php_thread *t, int status)
{
    while (t->inflight) {
        ta_exchange *ex = t->inflight;
        ta_exchange_fail(ex, status);
        ta_thread_request_done(t, ex);
    }
}

/* Requests still queued on a thread that can't run them get `status`. */
static void fail_queued(ta_php_thread *t, int status)
{
    void *batch[TA_BATCH];
    unsigned n;
    while ((n = ta_queue_pop(&t->queue, batch, TA_BATCH)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            ta_exchange *ex = batch[i];
            ta_exchange_fail(ex, status);
            ta_queue_release(&t->queue);
            ta_exchange_release(ex);
        }
    }
}

static void drain_inbox(ta_php_thread *t, int deliver)
{
    pthread_mutex_lock(&t->inbox_lock);
    ta_exchange *ex = t->inbox;
    t->inbox = NULL;
    for (ta_exchange *e = ex; e; e = e->inbox_next) e->in_inbox = 0;
    pthread_mutex_unlock(&t->inbox_lock);
    while (ex) {
        ta_exchange *next = ex->inbox_next;
        if (deliver && ex->php_ctx) ta_http_exchange_event(ex);
        ta_exchange_release(ex);
        ex = next;
    }
}

static void take_requests(ta_php_thread *t)
{
    void *batch[TA_BATCH];
    unsigned n = ta_queue_pop(&t->queue, batch, TA_BATCH);
    for (unsigned i = 0; i < n; i++) {
        ta_exchange *ex = batch[i];
        ex->php_prev = NULL;
        ex->php_next = t->inflight;
        if (t->inflight) t->inflight->php_prev = ex;
        t->inflight = ex;
        if (ta_http_start_request(ex, &t->callback) != 0) {
            ta_exchange_fail(ex, 500);
            ta_thread_request_done(t, ex);
        }
    }
}

static void on_wake(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    ta_php_thread *t = (ta_php_thread *) ((char *) cb - offsetof(ta_php_thread, wake_cb));
    ta_notifier_drain(&t->wake);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void cancel_all(ta_sched *s, const char *why)
{
    for (ta_coro *co = s->all; co; co = co->next) ta_coro_cancel(co, NULL, why);
}

static void (*prev_interrupt)(zend_execute_data *execute_data);

/* The VM interrupt, on a PHP thread, at an opcode boundary of whatever PHP
 * code runs. Inside a coroutine that does not suspend, a client that left
 * or a stop is seen now: the cancellation is thrown right there. */
static void on_vm_interrupt(zend_execute_data *execute_data)
{
    ta_php_thread *t = ta_thread_current;
    if (t && __atomic_load_n(&t->interrupt, __ATOMIC_ACQUIRE) && ta_coro_current()) {
        __atomic_store_n(&t->interrupt, 0, __ATOMIC_RELEASE);
        drain_inbox(t, 1);
        if (__atomic_load_n(&t->cancel, __ATOMIC_ACQUIRE))
            cancel_all(&t->sched, "Apache is stopping the server");   /* the loop does the rest */
        ta_coro_throw_pending_cancel();
    }
    if (prev_interrupt) prev_interrupt(execute_data);
}

/* What a recovered fatal error leaves behind (the frames of the failed
 * coroutine, never freed) stays until the thread recycles; once that is a
 * quarter of memory_limit over what the booted worker used, the thread
 * recycles so later requests do not fail for lack of memory. */
static bool worth_recycling(size_t boot_usage)
{
    zend_long limit = PG(memory_limit);
    size_t now = zend_memory_usage(0);
    return limit > 0 && now > boot_usage && now - boot_usage > (size_t) limit / 4;
}

void ta_thread_serve(ta_php_thread *t)
{
    int stop_phase = 0;
    uint64_t deadline = 0, fatals_seen = 0;
    bool recycle = false;
    size_t boot_usage = zend_memory_usage(0);
    t->recycled = 0;
    ta_exchange_defer_signals(&t->deferred);
    for (;;) {
        drain_inbox(t, 1);
        if (!stop_phase && !recycle) take_requests(t);
        if (__atomic_exchange_n(&t->cancel, 0, __ATOMIC_ACQ_REL)) {
            /* Apache stops the child without grace: what runs is cancelled
             * (finally blocks run), what waits in the queue gets 503. */
            cancel_all(&t->sched, "Apache is stopping the server");
            fail_queued(t, 503);
        }
        ta_sched_run_ready(&t->sched);
        if (t->sched.fatals != fatals_seen) {
            fatals_seen = t->sched.fatals;
            if (!recycle && !stop_phase && worth_recycling(boot_usage)) {
                ta_log(TA_LOG_INFO, TA_LOGNO(10818) "PHP thread %d of %s recycles after a fatal error "
                       "(%zu bytes in use): its requests finish first, new ones wait",
                       t->index, t->worker->cfg.script, zend_memory_usage(0));
                recycle = true;
                set_state(t, TA_THREAD_RECYCLING);
            }
        }
        bool stop_now = stopping(t) || (recycle && !t->inflight);
        if (!stop_phase && stop_now) {
            /* Stopping, or recycling with no request left: what is left
             * (background coroutines) is cancelled and given a grace. */
            stop_phase = 1;
            cancel_all(&t->sched, "Worker is shutting down");
            if (stopping(t)) fail_queued(t, 503);
            else t->recycled = 1;
            deadline = now_ms() + TA_STOP_GRACE_MS;
            /* only there so the loop wakes up in time to give up */
            t->stop_timer = ZEND_ASYNC_NEW_TIMER_EVENT(TA_STOP_GRACE_MS, false);
            if (t->stop_timer) t->stop_timer->base.start(&t->stop_timer->base);
            if (EG(exception)) zend_clear_exception();
            continue;
        }
        if (stop_phase && (t->sched.live == 0 || now_ms() >= deadline)) break;
        int more = !ta_sched_has_ready(&t->sched) && ta_sched_trim(&t->sched);
        ta_exchange_flush_signals(&t->deferred);
        ZEND_ASYNC_REACTOR_EXECUTE(ta_sched_has_ready(&t->sched) || more);
    }
    if (t->stop_timer) {
        ZEND_ASYNC_EVENT_RELEASE(&t->stop_timer->base);
        t->stop_timer = NULL;
    }
}

static void apply_ini(ta_php_thread *t)
{
    const ta_worker_config *c = &t->worker->cfg;
    for (int i = 0; i < c->n_ini; i++) {
        zend_string *name = zend_string_init(c->ini[i].name, strlen(c->ini[i].name), 0);
        if (zend_alter_ini_entry_chars(name, c->ini[i].value, strlen(c->ini[i].value),
                                       PHP_INI_SYSTEM, PHP_INI_STAGE_ACTIVATE) == FAILURE) {
            ta_log(TA_LOG_WARNING, TA_LOGNO(10810) "TrueAsyncPHPIni %s %s: unknown setting or value refused (worker %s)",
                   c->ini[i].name, c->ini[i].value, c->script);
        }
        zend_string_release(name);
    }
}

/* The notifier becomes a poll event on the thread's reactor. */
static int wake_event_start(ta_php_thread *t)
{
    t->wake_event = ZEND_ASYNC_NEW_POLL_EVENT(ta_notifier_fd(&t->wake), ZEND_SOCKET_INVALID, ASYNC_READABLE);
    if (!t->wake_event) return -1;
    memset(&t->wake_cb, 0, sizeof t->wake_cb);
    t->wake_cb.callback = on_wake;
    t->wake_event->base.add_callback(&t->wake_event->base, &t->wake_cb);
    t->wake_event->base.start(&t->wake_event->base);
    return EG(exception) ? -1 : 0;
}

static int run_worker_once(ta_php_thread *t)
{
    volatile int result = RUN_STOPPED;
    volatile int phase = 0;
    const char *script = t->worker->cfg.script;

    ZVAL_UNDEF(&t->callback);
    ta_queue_open(&t->queue);

    SG(server_context) = t;
    SG(options) |= SAPI_OPTION_NO_CHDIR;
    SG(request_info).path_translated = (char *) script;
    if (php_request_startup() == FAILURE) {
        ta_log(TA_LOG_ERR, TA_LOGNO(10811) "PHP request start-up failed for worker %s", script);
        result = RUN_BOOT_FAILED;
    } else {
        SG(headers_sent) = 1;
        SG(request_info).no_headers = 1;
        apply_ini(t);
        ta_sched_init(&t->sched, NULL);
        zend_try {
            if (!ZEND_ASYNC_REACTOR_STARTUP() || wake_event_start(t) != 0) {
                ta_log(TA_LOG_ERR, TA_LOGNO(10817) "cannot start the event loop of PHP thread %d for %s",
                       t->index, script);
                zend_bailout();
            }
            t->sched.loop = ta_reactor_loop();
            phase = 1;
            zend_file_handle fh;
            zend_stream_init_filename(&fh, script);
            fh.primary_script = 1;
            php_execute_script(&fh);
            zend_destroy_file_handle(&fh);
            if (Z_TYPE(t->callback) == IS_UNDEF) {
                ta_log(TA_LOG_ERR, TA_LOGNO(10812) "worker script %s returned without calling "
                       "FrankenPHP\\HttpServer::onRequest(); its requests get 503", script);
                result = RUN_BOOT_FAILED;
            } else {
                phase = 2;
                set_state(t, TA_THREAD_READY);
                ta_http_run_loop();
                result = t->recycled ? RUN_RECYCLED : RUN_STOPPED;
            }
        } zend_catch {
            if (phase == 2) {
                ta_log(TA_LOG_ERR, TA_LOGNO(10813) "fatal error in worker %s (thread %d): its in-flight "
                       "requests get 500, the worker script boots again", script, t->index);
                result = RUN_BAILED;
            } else {
                ta_log(TA_LOG_ERR, TA_LOGNO(10814) "worker script %s failed to boot (see the PHP error "
                       "above); its requests get 503", script);
                result = RUN_BOOT_FAILED;
            }
        } zend_end_try();

        /* signals the loop still holds (all of them after a bailout) */
        ta_exchange_flush_signals(&t->deferred);
        ta_exchange_defer_signals(NULL);
        fail_inflight(t, 500);
        if (result == RUN_BAILED) {
            /* The engine state is unwound; let request shutdown free it all,
             * and the reactor drop its events without calling into it.
             * Fiber stacks are not Zend memory: they go now. */
            ta_fibers_release_all();
            ta_sched_abandon(&t->sched);
            ZVAL_UNDEF(&t->callback);
            ta_reactor_abandon();
        } else {
            ta_sched_destroy(&t->sched);
            zval_ptr_dtor(&t->callback);
            ZVAL_UNDEF(&t->callback);
            if (t->wake_event) ZEND_ASYNC_EVENT_RELEASE(&t->wake_event->base);
            ZEND_ASYNC_REACTOR_SHUTDOWN();
        }
        t->wake_event = NULL;
        t->stop_timer = NULL;
        php_request_shutdown(NULL);
    }
    SG(request_info).path_translated = NULL;
    ta_sched_current = NULL;
    drain_inbox(t, 0);
    return result;
}

/* A thread whose script would not boot waits, failing what was queued, then
 * tries again, so a fixed script comes back without a restart. */
static void failed_wait(ta_php_thread *t, unsigned ms)
{
    ta_queue_close(&t->queue);
    fail_queued(t, 503);
    unsigned waited = 0;
    while (waited < ms && !stopping(t)) {
        ta_notifier_wait(&t->wake, 200, -1, 0, NULL);
        drain_inbox(t, 0);
        waited += 200;
    }
}

static void *thread_main(void *arg)
{
    ta_php_thread *t = arg;
    ts_resource(0);
    ZEND_TSRMLS_CACHE_UPDATE();
    ta_signals_thread_init();
    ta_thread_current = t;
    pthread_mutex_lock(&t->inbox_lock);
    t->vm_interrupt = &EG(vm_interrupt);
    pthread_mutex_unlock(&t->inbox_lock);
    unsigned backoff = 1000;
    while (!stopping(t)) {
        set_state(t, TA_THREAD_BOOTING);
        int rc = run_worker_once(t);
        if (rc == RUN_STOPPED) break;
        if (rc == RUN_RECYCLED) { backoff = 1000; continue; }
        if (rc == RUN_BOOT_FAILED) {
            set_state(t, TA_THREAD_FAILED);
            failed_wait(t, backoff);
            backoff = backoff >= 30000 ? 60000 : backoff * 2;
        } else {
            backoff = 1000;
        }
    }
    ta_queue_close(&t->queue);
    fail_queued(t, 503);
    set_state(t, TA_THREAD_STOPPED);
    pthread_mutex_lock(&t->inbox_lock);
    t->vm_interrupt = NULL;
    pthread_mutex_unlock(&t->inbox_lock);
    ta_thread_current = NULL;
    ts_free_thread();
    return NULL;
}

static void thread_destroy(ta_php_thread *t)
{
    ta_queue_destroy(&t->queue);
    ta_notifier_destroy(&t->wake);
    pthread_mutex_destroy(&t->inbox_lock);
}

int ta_pool_start(const ta_worker_config *configs, int n, ta_worker **out)
{
    if (ta_php_startup() != 0) return -1;
    g_php_up = 1;
    if (zend_interrupt_function != on_vm_interrupt) {
        prev_interrupt = zend_interrupt_function;
        zend_interrupt_function = on_vm_interrupt;
    }
    g_workers = calloc(n ? n : 1, sizeof *g_workers);
    if (!g_workers) return -1;
    for (int i = 0; i < n; i++) {
        ta_worker *w = calloc(1, sizeof *w);
        w->cfg = configs[i];
        w->threads = calloc(configs[i].threads, sizeof *w->threads);
        w->n_threads = 0;
        g_workers[g_n_workers++] = w;
        out[i] = w;
        for (int j = 0; j < configs[i].threads; j++) {
            ta_php_thread *t = &w->threads[j];
            t->worker = w;
            t->index = j;
            int rc;
            if ((rc = ta_queue_init(&t->queue, configs[i].buffer_size)) ||
                (rc = ta_notifier_init(&t->wake, TA_NOTIFIER_AUTO)) ||
                (rc = pthread_mutex_init(&t->inbox_lock, NULL))) {
                ta_log(TA_LOG_ERR, TA_LOGNO(10815) "cannot set up PHP thread %d for %s: %s",
                       j, configs[i].script, strerror(rc));
                return -1;
            }
            w->n_threads++;
            if ((rc = pthread_create(&t->tid, NULL, thread_main, t))) {
                ta_log(TA_LOG_ERR, TA_LOGNO(10816) "cannot start PHP thread %d for %s: %s",
                       j, configs[i].script, strerror(rc));
                set_state(t, TA_THREAD_STOPPED);
                return -1;
            }
            t->started = 1;
        }
    }
    return 0;
}

unsigned ta_pool_held(void)
{
    unsigned n = 0;
    for (int i = 0; i < g_n_workers; i++)
        for (int j = 0; j < g_workers[i]->n_threads; j++) n += ta_queue_load(&g_workers[i]->threads[j].queue);
    return n;
}

void ta_pool_cancel_all(void)
{
    for (int i = 0; i < g_n_workers; i++) {
        ta_worker *w = g_workers[i];
        for (int j = 0; j < w->n_threads; j++) {
            __atomic_store_n(&w->threads[j].cancel, 1, __ATOMIC_RELEASE);
            raise_interrupt(&w->threads[j]);
            ta_notifier_signal(&w->threads[j].wake);
        }
    }
}

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

static void *deadline_main(void *arg)
{
    (void) arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += g_deadline.ms / 1000;
    ts.tv_nsec += (long) (g_deadline.ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&g_deadline.lock);
    int rc = 0;
    while (!g_deadline.done && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&g_deadline.cond, &g_deadline.lock, &ts);
    int fire = !g_deadline.done;
    pthread_mutex_unlock(&g_deadline.lock);
    if (fire) {
        if (g_deadline.on_fire) g_deadline.on_fire(ta_pool_held());
        ta_pool_cancel_all();
    }
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

void ta_pool_stop(void)
{
    pthread_mutex_lock(&g_deadline.lock);
    g_deadline.done = 1;
    pthread_cond_signal(&g_deadline.cond);
    int joinable = g_deadline.started;
    pthread_mutex_unlock(&g_deadline.lock);
    if (joinable) pthread_join(g_deadline.tid, NULL);

    for (int i = 0; i < g_n_workers; i++) {
        ta_worker *w = g_workers[i];
        for (int j = 0; j < w->n_threads; j++) {
            ta_php_thread *t = &w->threads[j];
            __atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
            ta_queue_close(&t->queue);
            ta_notifier_signal(&t->wake);
        }
    }
    for (int i = 0; i < g_n_workers; i++) {
        ta_worker *w = g_workers[i];
        for (int j = 0; j < w->n_threads; j++) {
            if (w->threads[j].started) pthread_join(w->threads[j].tid, NULL);
            thread_destroy(&w->threads[j]);
        }
        free(w->threads);
        free(w);
    }
    free(g_workers);
    g_workers = NULL;
    g_n_workers = 0;
    if (g_php_up) ta_php_shutdown();
    g_php_up = 0;
}
