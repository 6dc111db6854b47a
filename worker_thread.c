/* One PHP thread of a worker: boots the worker script (a long PHP
 * request), runs its loop (requests as coroutines, the reactor), reboots it
 * after an unrecovered fatal error or to recycle, and fails what it holds
 * when it cannot go on. Apache threads reach it only through its mailbox. */
#include "php_common.h"
#include "worker_thread.h"
#include "php_sapi.h"
#include "php_module.h"
#include "php_stream_guard.h"
#include "php_http_api.h"
#include "php_request_globals.h"
#include "ta_log.h"
#include "reactor_apr.h"
#include "php_signals.h"
#include "coro_bailout.h"
#include "scheduler.h"
#include "ta_async_api.h"
#include "ta_clock.h"
#include "worker_stats.h"
#include "worker_recycle.h"
#include "php_backtrace.h"
#include "php_watch.h"

#include <errno.h>
#include <time.h>
#include <string.h>

struct ta_php_thread {
    const ta_worker_config *cfg;
    ta_mailbox *box;
    ta_php_thread_stats *st;        /* its status figures (box->stats) */
    int index;
    pthread_t tid;
    int recycled;               /* the loop ended to boot the script afresh */
    uint64_t served;            /* requests finished since this boot */
    unsigned running;           /* requests taken from the queue, not finished */

    zval callback;              /* what the script gave onRequest() */
    zend_async_poll_event_t *wake_event;    /* the notifier, on the reactor */
    zend_async_event_callback_t wake_cb;    /* embedded: nothing to free */
    zend_async_timer_event_t *stop_timer;
    ta_sched sched;
    ta_exchange *inflight;      /* exchanges the PHP side holds, for failing them */
    ta_exchange *deferred;      /* responses whose Apache thread is told before the loop waits */
    ta_http_host host;          /* what the HTTP API may call back */
    ta_file_watch files;        /* TrueAsyncWatch: what the booted script included */
    /* The serving loop's state: it may return to the script between
     * requests (frankenphp_handle_request()) and carry on later. */
    struct {
        bool begun, done, recycle, script_ended, shutdown_asked;
        int stop_phase;
        uint64_t deadline;
        ta_recycle_seen seen;
    } sv;
};

static __thread ta_php_thread *tl_thread;

enum { RUN_STOPPED, RUN_BOOT_FAILED, RUN_BAILED, RUN_RECYCLED };

#define TA_BATCH 64
#define TA_STOP_GRACE_MS 5000

static void set_state(ta_php_thread *t, int s) { ta_mailbox_set_state(t->box, s); }
static int stopping(ta_php_thread *t) { return ta_mailbox_stopping(t->box); }
/* Told to retire, and nothing left: its queue was closed first, so once
 * what it held has finished no request can come any more. */
static bool retired(ta_php_thread *t)
{
    return ta_mailbox_retiring(t->box) && !t->inflight && ta_queue_load(&t->box->queue) == 0;
}

static void request_done(ta_php_thread *t, ta_exchange *ex)
{
    if (ex->php_prev) ex->php_prev->php_next = ex->php_next; else t->inflight = ex->php_next;
    if (ex->php_next) ex->php_next->php_prev = ex->php_prev;
    ex->php_prev = ex->php_next = NULL;
    ex->php_ctx = NULL;
    t->running--;
    ta_queue_release(&t->box->queue);
    ta_exchange_release(ex);
    t->served++;
    ta_stat_add(&t->st->served, 1);
    ta_stat_set(&t->st->memory, zend_memory_usage(0));
}

static void fail_inflight(ta_php_thread *t, int status)
{
    while (t->inflight) {
        ta_exchange *ex = t->inflight;
        ta_exchange_fail(ex, status);
        request_done(t, ex);
    }
}

/* Requests still queued on a thread that can't run them get `status`. */
static void fail_queued(ta_php_thread *t, int status)
{
    void *batch[TA_BATCH];
    unsigned n;
    while ((n = ta_queue_pop(&t->box->queue, batch, TA_BATCH)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            ta_exchange *ex = batch[i];
            ta_exchange_fail(ex, status);
            ta_queue_release(&t->box->queue);
            ta_exchange_release(ex);
        }
    }
}

static void drain_inbox(ta_php_thread *t, int deliver)
{
    ta_exchange *ex = ta_mailbox_take_inbox(t->box);
    while (ex) {
        ta_exchange *next = ex->inbox_next;
        if (deliver && ex->php_ctx) ta_http_exchange_event(ex);
        ta_exchange_release(ex);
        ex = next;
    }
}

/* TrueAsyncMaxWaitTime: one that waited too long is refused (503) before
 * PHP sees it; the Apache thread withdraws most of them itself, this
 * catches one taken at the last moment. */
static bool waited_too_long(ta_php_thread *t, ta_exchange *ex, uint64_t now_us)
{
    if (!ex->req.max_wait_ms || now_us - ex->req.dispatched_us <= (uint64_t) ex->req.max_wait_ms * 1000u) return false;
    ex->wait_expired = 1;
    ta_exchange_fail(ex, 503);
    ta_queue_release(&t->box->queue);
    ta_exchange_release(ex);
    return true;
}

/* The request's deadline; the watchdog looks at the earliest. */
static void arm_deadline(ta_php_thread *t, ta_exchange *ex, uint64_t now_us)
{
    ex->php_deadline_ms = now_us / 1000u + ex->req.timeout_ms;
    uint64_t cur = __atomic_load_n(&t->box->watch.deadline_ms, __ATOMIC_RELAXED);
    if (!cur || ex->php_deadline_ms < cur) ta_watch_set_deadline(&t->box->watch, ex->php_deadline_ms);
}

/* TrueAsyncMaxConcurrency in force: auto is one at a time for a
 * frankenphp_handle_request() loop (FrankenPHP's contract), no limit for
 * onRequest(). 0: no limit. */
static unsigned concurrency_limit(const ta_php_thread *t)
{
    if (t->cfg->max_concurrency > 0) return (unsigned) t->cfg->max_concurrency;
    return ta_http_serves_loop() ? 1 : 0;
}

/* How many more requests the thread may start now. */
static unsigned room(const ta_php_thread *t)
{
    unsigned limit = concurrency_limit(t);
    if (!limit) return TA_BATCH;
    unsigned left = limit > t->running ? limit - t->running : 0;
    return left < TA_BATCH ? left : TA_BATCH;
}

/* Requests are queued that the thread has room to start now (an unlocked
 * read: a push also wakes the loop). */
static bool backlog(const ta_php_thread *t)
{
    return __atomic_load_n(&t->box->queue.queued, __ATOMIC_RELAXED) > 0 && room(t) > 0;
}

/* Requests wait in the queue (their slot held, so the 503 still comes only
 * when the queues are full) until the thread has room for them. */
static void take_requests(ta_php_thread *t)
{
    void *batch[TA_BATCH];
    unsigned max = room(t);
    unsigned n = max ? ta_queue_pop(&t->box->queue, batch, max) : 0;
    uint64_t now_us = n ? ta_now_us() : 0;
    for (unsigned i = 0; i < n; i++) {
        ta_exchange *ex = batch[i];
        if (waited_too_long(t, ex, now_us)) continue;
        ex->started_us = now_us;
        if (ex->req.timeout_ms) arm_deadline(t, ex, now_us);
        t->running++;
        ex->php_prev = NULL;
        ex->php_next = t->inflight;
        if (t->inflight) t->inflight->php_prev = ex;
        t->inflight = ex;
        if (ta_http_start_request(ex, &t->callback) != 0) {
            ta_exchange_fail(ex, 500);
            request_done(t, ex);
        }
    }
}

static void on_wake(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    ta_php_thread *t = (ta_php_thread *) ((char *) cb - offsetof(ta_php_thread, wake_cb));
    ta_notifier_drain(&t->box->wake);
}

static void cancel_all(ta_sched *s, const char *why)
{
    for (ta_coro *co = s->all; co; co = co->next) ta_coro_cancel(co, NULL, why);
}

/* TrueAsyncRequestTimeout: requests past their deadline are answered 504
 * (or their connection closed) and their coroutines cancelled; the
 * watchdog is given the next deadline. Safe inside a running coroutine:
 * it only cancels (the loop or the caller throws). */
static void expire_requests(ta_php_thread *t)
{
    uint64_t now_us = ta_now_us(), next = 0;
    for (ta_exchange *ex = t->inflight; ex; ex = ex->php_next) {
        if (!ex->php_deadline_ms || ex->php_timed_out) continue;
        if (now_us / 1000u < ex->php_deadline_ms) {
            if (!next || ex->php_deadline_ms < next) next = ex->php_deadline_ms;
            continue;
        }
        ex->php_timed_out = 1;
        if (!ta_http_cancel_request(ex, 504, "Request timed out (TrueAsyncRequestTimeout)")) continue;
        ta_stat_add(&t->st->timeouts, 1);
        ta_log(TA_LOG_ERR, TA_LOGNO(00900) "%s %s timed out after %.3f s (TrueAsyncRequestTimeout %u s, PHP thread "
               "%d of %s): 504, or the connection closed if the response had begun; its coroutines are cancelled",
               ex->req.method, ex->req.uri, (double) (now_us - ex->started_us) / 1e6, ex->req.timeout_ms / 1000u,
               t->index, t->cfg->script);
    }
    ta_watch_set_deadline(&t->box->watch, next);
}

/* The slow log: the coroutine that holds the thread now, with its frames
 * (taken here, on the PHP thread, at an opcode boundary). */
static void log_slow(ta_php_thread *t)
{
    ta_watch *w = &t->box->watch;
    if (__atomic_load_n(&w->slow_seq, __ATOMIC_RELAXED) != w->run_seq) return;     /* that run is over */
    ta_exchange *ex = ta_http_coro_exchange(ta_coro_current());
    char trace[3000];
    ta_php_backtrace(trace, sizeof trace);
    ta_stat_add(&t->st->slow, 1);
    ta_log(TA_LOG_WARNING, TA_LOGNO(00902) "slow request %s %s: PHP thread %d of %s has run it for %u ms without "
           "suspending (TrueAsyncSlowlogTimeout %u ms); backtrace: %s", ex ? ex->req.method : "-",
           ex ? ex->req.uri : "(a coroutine of no request)", t->index, t->cfg->script,
           __atomic_load_n(&w->slow_ms, __ATOMIC_RELAXED), w->slowlog_ms, trace);
}

/* What the watchdog raised, inside a coroutine that runs long: its output
 * goes to Apache now, the slow log, deadlines. */
static void on_watch(ta_php_thread *t, int flags)
{
    if (flags & TA_WATCH_TICK) ta_exchange_flush_signals(&t->deferred);
    if (flags & TA_WATCH_SLOW) log_slow(t);
    if (flags & TA_WATCH_DEADLINE) expire_requests(t);
}

static void (*prev_interrupt)(zend_execute_data *execute_data);

/* From any thread, under the mailbox lock (so not after the thread left). */
static void raise_vm_interrupt(void *arg)
{
    zend_atomic_bool_store((zend_atomic_bool *) arg, true);
}

/* The VM interrupt, on a PHP thread, at an opcode boundary of whatever PHP
 * code runs. Inside a coroutine that does not suspend, a client that left
 * or a stop is seen now: the cancellation is thrown right there. */
static void on_vm_interrupt(zend_execute_data *execute_data)
{
    ta_php_thread *t = tl_thread;
    if (t && ta_coro_current()) {
        /* Cancellations made here take their trace from the frame that
         * runs, which may be one being entered (a __call trampoline's,
         * whose arguments are not in place yet): no arguments in it. */
        bool ignore_args = EG(exception_ignore_args);
        EG(exception_ignore_args) = true;
        bool news = ta_mailbox_take_interrupt(t->box);
        int watch = ta_watch_take(&t->box->watch);
        if (news) {
            drain_inbox(t, 1);
            if (__atomic_load_n(&t->box->cancel, __ATOMIC_ACQUIRE))
                cancel_all(&t->sched, "Apache is stopping the server");   /* the loop does the rest */
        }
        if (watch) on_watch(t, watch);
        EG(exception_ignore_args) = ignore_args;
        /* thrown while it held a shared socket: that exchange is cut short */
        if ((news || watch) && ta_coro_throw_pending_cancel()) ta_stream_guard_cancel_thrown(ta_coro_current());
    }
    if (prev_interrupt) prev_interrupt(execute_data);
}

static bool serve(ta_php_thread *t, bool until_request);

static void host_request_done(void *ctx, ta_exchange *ex) { request_done(ctx, ex); }
static void sched_graceful(void *ctx) { ((ta_php_thread *) ctx)->sv.shutdown_asked = true; }
/* flush(): the Apache threads of what was written are told now. */
static void sapi_flush_signals(void *ctx) { ta_exchange_flush_signals(&((ta_php_thread *) ctx)->deferred); }
static void host_serve(void *ctx) { serve(ctx, false); }
static bool host_serve_next(void *ctx) { return !serve(ctx, true); }

/* Stopping, or recycling with no request left: what is left (background
 * coroutines) is cancelled and given a grace. */
static void begin_stop(ta_php_thread *t)
{
    t->sv.stop_phase = 1;
    cancel_all(&t->sched, "Worker is shutting down");
    if (stopping(t)) fail_queued(t, 503);
    else t->recycled = 1;
    t->sv.deadline = ta_now_ms() + TA_STOP_GRACE_MS;
    /* only there so the loop wakes up in time to give up */
    t->stop_timer = ZEND_ASYNC_NEW_TIMER_EVENT(TA_STOP_GRACE_MS, false);
    if (t->stop_timer) t->stop_timer->base.start(&t->stop_timer->base);
    if (EG(exception)) zend_clear_exception();
}

/* The first entry into serve() after a boot. */
static void serve_begin(ta_php_thread *t)
{
    memset(&t->sv, 0, sizeof t->sv);
    t->sv.begun = true;
    t->sv.seen.boot_usage = zend_memory_usage(0);
    t->recycled = 0;
    t->served = 0;
    set_state(t, TA_PHP_THREAD_READY);
    ta_stat_set(&t->st->memory, t->sv.seen.boot_usage);
    ta_stat_set(&t->st->concurrency, concurrency_limit(t));
    /* what the script included to get here (also a frankenphp_handle_request() loop's) */
    if (t->cfg->watch) ta_file_watch_start(&t->files);
}

/* Whether the thread should boot its script afresh now; if so it takes no
 * new requests from here on (the cause is logged and counted). */
static void check_recycle(ta_php_thread *t)
{
    if (t->sv.recycle || t->sv.stop_phase) return;
    int why = t->sv.script_ended ? TA_RECYCLE_SCRIPT_ENDED
            : t->sv.shutdown_asked ? TA_RECYCLE_SHUTDOWN
            : t->files.changed ? TA_RECYCLE_WATCH
            : ta_recycle_cause(&t->sv.seen, t->sched.fatals, t->served, t->cfg);
    if (why < 0) return;
    ta_stat_add(&t->st->recycles[why], 1);
    if (why == TA_RECYCLE_WATCH) ta_file_watch_invalidate(&t->files);
    ta_log(TA_LOG_INFO, TA_LOGNO(00818) "PHP thread %d of %s recycles %s (%zu bytes in use): its "
           "requests finish first, new ones wait", t->index, t->cfg->script, ta_recycle_why(why),
           zend_memory_usage(0));
    t->sv.recycle = true;
    set_state(t, TA_PHP_THREAD_RECYCLING);
}

/* What came in: news from Apache, deadlines passed, new requests, and a stop
 * without grace (what runs is cancelled, finally blocks run; what waits in
 * the queue gets 503). */
static void take_news(ta_php_thread *t)
{
    ta_mailbox_take_news(t->box);     /* first: what is posted from now on counts as news */
    drain_inbox(t, 1);
    if (ta_watch_peek(&t->box->watch) & TA_WATCH_DEADLINE) {
        ta_watch_take(&t->box->watch);
        expire_requests(t);
    }
    if (!t->sv.stop_phase && !t->sv.recycle) take_requests(t);
    if (__atomic_exchange_n(&t->box->cancel, 0, __ATOMIC_ACQ_REL)) {
        cancel_all(&t->sched, "Apache is stopping the server");
        fail_queued(t, 503);
    }
}

/* Serves until the worker stops; with `until_request`, returns as soon as
 * a request has finished while it served normally (not while stopping or
 * recycling). Returns whether it stopped for good. */
static bool serve(ta_php_thread *t, bool until_request)
{
    if (t->sv.done) return true;
    if (!t->sv.begun) serve_begin(t);
    uint64_t served_at_entry = t->served;
    ta_exchange_defer_signals(&t->deferred);
    ta_mailbox_set_awake(t->box, 1);
    for (;;) {
        take_news(t);
        ta_sched_run_ready(&t->sched);
        check_recycle(t);
        bool stop_now = stopping(t) || (t->sv.recycle && !t->inflight) || retired(t);
        if (!t->sv.stop_phase && stop_now) {
            begin_stop(t);
            continue;
        }
        if (t->sv.stop_phase && (t->sched.live == 0 || ta_now_ms() >= t->sv.deadline)) break;
        /* requests left waiting for room, now that some finished */
        int more = backlog(t) || (!ta_sched_has_ready(&t->sched) && ta_sched_trim(&t->sched));
        ta_exchange_flush_signals(&t->deferred);
        ta_stat_set(&t->st->coroutines, t->sched.live);
        if (until_request && t->served > served_at_entry && !t->sv.stop_phase && !t->sv.recycle) {
            ta_mailbox_set_awake(t->box, 0);
            ta_sched_idle();
            return false;   /* the script's loop body runs; requests in flight wait meanwhile */
        }
        /* blocks only if nothing was posted since take_news() looked */
        bool no_wait = ta_sched_has_ready(&t->sched) || more || !ta_mailbox_sleep(t->box);
        ZEND_ASYNC_REACTOR_EXECUTE(no_wait);
        ta_mailbox_set_awake(t->box, 1);
    }
    ta_mailbox_set_awake(t->box, 0);
    ta_sched_idle();
    if (t->stop_timer) {
        ZEND_ASYNC_EVENT_RELEASE(&t->stop_timer->base);
        t->stop_timer = NULL;
    }
    t->sv.done = true;
    return true;
}

static void apply_ini(ta_php_thread *t)
{
    const ta_worker_config *c = t->cfg;
    for (int i = 0; i < c->n_ini; i++) {
        zend_string *name = zend_string_init(c->ini[i].name, strlen(c->ini[i].name), 0);
        if (zend_alter_ini_entry_chars(name, c->ini[i].value, strlen(c->ini[i].value),
                                       PHP_INI_SYSTEM, PHP_INI_STAGE_ACTIVATE) == FAILURE) {
            ta_log(TA_LOG_WARNING, TA_LOGNO(00810) "TrueAsyncPHPIni %s %s: unknown setting or value refused (worker %s)",
                   c->ini[i].name, c->ini[i].value, c->script);
        }
        zend_string_release(name);
    }
}

/* The notifier becomes a poll event on the thread's reactor. */
static int wake_event_start(ta_php_thread *t)
{
    t->wake_event = ZEND_ASYNC_NEW_POLL_EVENT(ta_notifier_fd(&t->box->wake), ZEND_SOCKET_INVALID, ASYNC_READABLE);
    if (!t->wake_event) return -1;
    memset(&t->wake_cb, 0, sizeof t->wake_cb);
    t->wake_cb.callback = on_wake;
    t->wake_event->base.add_callback(&t->wake_event->base, &t->wake_cb);
    t->wake_event->base.start(&t->wake_event->base);
    return EG(exception) ? -1 : 0;
}

/* The status page's "last boot error": PHP's own message when there is one. */
static void note_boot_error(ta_php_thread *t, const char *what, bool php_error)
{
    char msg[TA_LAST_ERROR_LEN];
    if (php_error && PG(last_error_message))
        snprintf(msg, sizeof msg, "%s: %s in %s on line %d", what, ZSTR_VAL(PG(last_error_message)),
                 PG(last_error_file) ? ZSTR_VAL(PG(last_error_file)) : "?", PG(last_error_lineno));
    else
        snprintf(msg, sizeof msg, "%s", what);
    ta_stats_set_error(t->st, msg);
    ta_stat_add(&t->st->boot_failures, 1);
}

/* Inside the worker's PHP request: starts the loop, runs the script, then
 * serves until told to stop. A bailout that reaches here (fatal error
 * outside any coroutine, or one not safe to recover) ends the run. */
static int boot_and_serve(ta_php_thread *t)
{
    volatile int result = RUN_STOPPED;
    volatile int phase = 0;
    const char *script = t->cfg->script;
    zend_try {
        if (!ZEND_ASYNC_REACTOR_STARTUP() || wake_event_start(t) != 0) {
            ta_log(TA_LOG_ERR, TA_LOGNO(00817) "cannot start the event loop of PHP thread %d for %s",
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
            ta_log(TA_LOG_ERR, TA_LOGNO(00812) "worker script %s returned without calling "
                   "FrankenPHP\\HttpServer::onRequest(); its requests get 503", script);
            note_boot_error(t, "the worker script returned without calling FrankenPHP\\HttpServer::onRequest()", true);
            result = RUN_BOOT_FAILED;
        } else {
            phase = 2;
            ta_stat_add(&t->st->boots, 1);
            set_state(t, TA_PHP_THREAD_READY);
            /* A script that served through frankenphp_handle_request() and
             * left its loop wants a fresh boot, as FrankenPHP restarts it. */
            if (t->sv.begun) t->sv.script_ended = true;
            ta_http_run_loop();     /* calls serve() from a PHP frame */
            result = t->recycled ? RUN_RECYCLED : RUN_STOPPED;
        }
    } zend_catch {
        ta_bailout_landed();
        if (phase == 2 || t->sv.begun) {
            ta_log(TA_LOG_ERR, TA_LOGNO(00813) "fatal error in worker %s (thread %d): its in-flight "
                   "requests get 500, the worker script boots again", script, t->index);
            result = RUN_BAILED;
        } else {
            ta_log(TA_LOG_ERR, TA_LOGNO(00814) "worker script %s failed to boot (see the PHP error "
                   "above); its requests get 503", script);
            note_boot_error(t, "the worker script failed to boot", true);
            result = RUN_BOOT_FAILED;
        }
    } zend_end_try();
    return result;
}

/* After a run: what it still holds fails, its loop and scheduler go. */
static void end_run(ta_php_thread *t, int result)
{
    ta_watch_run_end(&t->box->watch);     /* a bailout skips the run's end */
    ta_mailbox_set_awake(t->box, 0);      /* and serve()'s: wakers write the notifier again */
    ta_watch_set_deadline(&t->box->watch, 0);
    ta_file_watch_release(&t->files, result == RUN_BAILED);
    ta_http_scope_flush();      /* a bailout can leave a request's state swapped in */
    /* signals the loop still holds (all of them after a bailout) */
    ta_exchange_flush_signals(&t->deferred);
    ta_exchange_defer_signals(NULL);
    fail_inflight(t, 500);
    ta_module_run_end();        /* while the coroutines' stacks are still there */
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
}

/* One life of the worker script: a PHP request from boot to stop. */
static int run_worker_once(ta_php_thread *t)
{
    int result;
    ZVAL_UNDEF(&t->callback);
    memset(&t->sv, 0, sizeof t->sv);
    ta_queue_open(&t->box->queue);
    SG(server_context) = t;
    SG(options) |= SAPI_OPTION_NO_CHDIR;
    SG(request_info).path_translated = (char *) t->cfg->script;
    if (php_request_startup() == FAILURE) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00811) "PHP request start-up failed for worker %s", t->cfg->script);
        result = RUN_BOOT_FAILED;
    } else {
        apply_ini(t);   /* first: session.* refuse changes once headers count as sent */
        SG(headers_sent) = 1;
        SG(request_info).no_headers = 1;
        ta_rglobals_boot_reset();
        ta_sched_init(&t->sched, NULL);
        t->sched.graceful = sched_graceful;
        t->sched.graceful_ctx = t;
        t->sched.news = ta_mailbox_has_news;
        t->sched.news_ctx = t->box;
        result = boot_and_serve(t);
        end_run(t, result);
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
    ta_queue_close(&t->box->queue);
    fail_queued(t, 503);
    unsigned waited = 0;
    while (waited < ms && !stopping(t)) {
        ta_notifier_wait(&t->box->wake, 200, -1, 0, NULL);
        drain_inbox(t, 0);
        waited += 200;
    }
}

static void watch_run_begin(void) { if (tl_thread) ta_watch_run_begin(&tl_thread->box->watch); }
static void watch_run_end(void) { if (tl_thread) ta_watch_run_end(&tl_thread->box->watch); }

static void *thread_main(void *arg)
{
    ta_php_thread *t = arg;
    char name[16];      /* top -H, ps -L and gdb tell the PHP threads from Apache's */
    snprintf(name, sizeof name, "ta-php-%d", t->index);
    pthread_setname_np(pthread_self(), name);
    ts_resource(0);
    ZEND_TSRMLS_CACHE_UPDATE();
    ta_signals_thread_init();
    tl_thread = t;
    ta_mailbox_set_interrupt(t->box, raise_vm_interrupt, &EG(vm_interrupt));
    ta_http_bind(&t->host);
    ta_rglobals_thread_init();
    unsigned backoff = 1000;
    int fails = 0;
    while (!stopping(t) && !ta_mailbox_retiring(t->box)) {
        set_state(t, TA_PHP_THREAD_BOOTING);
        int rc = run_worker_once(t);
        if (rc == RUN_STOPPED) break;
        if (rc == RUN_BOOT_FAILED && t->box->may_exit) {
            /* a thread above MIN does not retry: the pool starts another
             * later if requests still wait */
            __atomic_store_n(&t->box->retire, 1, __ATOMIC_RELEASE);
            break;
        }
        if (rc == RUN_BOOT_FAILED) {
            set_state(t, TA_PHP_THREAD_FAILED);
            if (++fails == t->cfg->max_failures)
                ta_log(TA_LOG_ERR, TA_LOGNO(00901) "worker script %s failed to boot %d times in a row on PHP "
                       "thread %d (TrueAsyncMaxConsecutiveFailures): its requests get 503 while it keeps "
                       "retrying", t->cfg->script, fails, t->index);
            failed_wait(t, backoff);
            backoff = backoff >= 30000 ? 60000 : backoff * 2;
        } else {
            fails = 0;
            backoff = 1000;
        }
    }
    ta_queue_close(&t->box->queue);
    fail_queued(t, 503);
    set_state(t, TA_PHP_THREAD_STOPPED);
    ta_mailbox_set_interrupt(t->box, NULL, NULL);
    ta_http_bind(NULL);
    tl_thread = NULL;
    ts_free_thread();
    __atomic_store_n(&t->box->exited, 1, __ATOMIC_RELEASE);    /* last: the pool may join and free t now */
    return NULL;
}

int ta_threads_php_startup(void)
{
    if (ta_php_startup(&ta_module_entry, ta_http_echo) != 0) return -1;
    ta_sapi_set_header_handler(ta_http_header_op);
    ta_sapi_set_flush_handler(sapi_flush_signals);
    ta_sched_set_run_hooks(watch_run_begin, watch_run_end);
    if (zend_interrupt_function != on_vm_interrupt) {
        prev_interrupt = zend_interrupt_function;
        zend_interrupt_function = on_vm_interrupt;
    }
    return 0;
}

void ta_threads_php_shutdown(void)
{
    ta_php_shutdown();
}

ta_php_thread *ta_php_thread_start(const ta_worker_config *cfg, ta_mailbox *box, int *err)
{
    ta_php_thread *t = calloc(1, sizeof *t);
    if (!t) { *err = ENOMEM; return NULL; }
    t->cfg = cfg;
    t->box = box;
    t->st = box->stats;
    t->index = box->index;
    box->watch.slowlog_ms = cfg->slowlog_ms;
    t->host = (ta_http_host) { .handler = &t->callback, .script = cfg->script,
                               .sendfile_dirs = cfg->sendfile_dirs, .n_sendfile_dirs = cfg->n_sendfile_dirs,
                               .request_done = host_request_done, .serve = host_serve,
                               .serve_next = host_serve_next, .ctx = t };
    ZVAL_UNDEF(&t->callback);
    if ((*err = pthread_create(&t->tid, NULL, thread_main, t))) {
        free(t);
        return NULL;
    }
    return t;
}

void ta_php_thread_join(ta_php_thread *t)
{
    pthread_join(t->tid, NULL);
    free(t);
}

int ta_php_thread_join_until(ta_php_thread *t, const struct timespec *until)
{
    int rc = pthread_timedjoin_np(t->tid, NULL, until);
    if (rc == 0) free(t);
    return rc;
}
