/* php-async's runtime functions: available_parallelism(), runtime_stats(),
 * CpuSnapshot, cpu_usage(), loadavg(); signal() and the Signal enum (the
 * signals Apache owns refused); graceful_shutdown(). iterate() is in
 * php_async_iterate.c. */
#include "php_async_objects.h"
#include "php_async_scope.h"
#include "php_async_register.h"
#include "php_signals.h"
#include "reactor_apr.h"
#include <zend_enum.h>
#include <zend_interfaces.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>
#include "stubs/php_async_runtime_arginfo.h"

zend_class_entry *ta_ce_cpu_snapshot, *ta_ce_signal;

/* {{{ Async\available_parallelism(): int */
ZEND_FUNCTION(Async_available_parallelism)
{
    ZEND_PARSE_PARAMETERS_NONE();
    unsigned n = uv_available_parallelism();
    RETURN_LONG(n ? n : 1);
}

/* {{{ Async\runtime_stats(): array — this PHP thread's scheduler */
ZEND_FUNCTION(Async_runtime_stats)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_sched *s = ta_sched_current;
    zend_long total = 0, active = 0, queued = 0;
    if (s)
        for (ta_coro *co = s->all; co; co = co->next) {
            if (co->state == TA_CORO_DONE) continue;
            total++;
            if (co->state == TA_CORO_READY || co->state == TA_CORO_RUNNING) active++;
            if (co->state == TA_CORO_READY && !co->started) queued++;
        }
    zend_long stack = (zend_long) EG(fiber_stack_size);
    array_init(return_value);
    add_assoc_long(return_value, "coroutines_total", total);
    add_assoc_long(return_value, "coroutines_active", active);
    add_assoc_long(return_value, "microtasks_queue", 0);    /* the scheduler has none */
    add_assoc_long(return_value, "coroutine_queue", queued);
    add_assoc_long(return_value, "resumed_queue", active - queued);
    add_assoc_long(return_value, "fiber_pool_count", s ? (zend_long) s->n_idle : 0);
    add_assoc_long(return_value, "fiber_pool_capacity", s ? (zend_long) s->cap_idle : 0);
    add_assoc_long(return_value, "fiber_pool_min", TA_KEEP_IDLE_RUNNERS);
    add_assoc_long(return_value, "fiber_stack_size", stack);
    add_assoc_long(return_value, "fiber_pool_virtual_bytes", s ? (zend_long) s->n_idle * stack : 0);
}

/* ---- CPU ------------------------------------------------------------------------ */

typedef struct { int64_t wall, user, sys, idle, busy, cpus; } cpu_sample;

static int64_t ts_ns(const struct timespec *t) { return (int64_t) t->tv_sec * 1000000000 + t->tv_nsec; }

static void cpu_take(cpu_sample *c)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    c->wall = ts_ns(&t);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    /* user and system apart: getrusage() has them */
    uv_rusage_t ru;
    if (uv_getrusage(&ru) == 0) {
        c->user = (int64_t) ru.ru_utime.tv_sec * 1000000000 + ru.ru_utime.tv_usec * 1000;
        c->sys = (int64_t) ru.ru_stime.tv_sec * 1000000000 + ru.ru_stime.tv_usec * 1000;
    } else {
        c->user = ts_ns(&t);
        c->sys = 0;
    }
    c->idle = c->busy = 0;
    c->cpus = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        unsigned long long v[10] = {0};
        char line[512];
        if (fgets(line, sizeof line, f)
            && sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                      &v[4], &v[5], &v[6], &v[7]) >= 4) {
            long hz = sysconf(_SC_CLK_TCK);
            int64_t tick = hz > 0 ? 1000000000 / hz : 10000000;
            c->idle = (int64_t) (v[3] + v[4]) * tick;
            c->busy = (int64_t) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * tick;
        }
        while (fgets(line, sizeof line, f)) if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9') c->cpus++;
        fclose(f);
    }
    if (!c->cpus) { long n = sysconf(_SC_NPROCESSORS_ONLN); c->cpus = n > 0 ? n : 1; }
}

static zend_object_handlers h_snapshot;

static zend_object *snapshot_create(zend_class_entry *ce)
{
    zend_object *o = zend_objects_new(ce);
    object_properties_init(o, ce);
    o->handlers = &h_snapshot;
    return o;
}

static void snapshot_set(zend_object *obj, const char *name, int64_t v)
{
    zend_update_property_long(ta_ce_cpu_snapshot, obj, name, strlen(name), (zend_long) v);
}

/* {{{ CpuSnapshot::now(): CpuSnapshot */
ZEND_METHOD(Async_CpuSnapshot, now)
{
    ZEND_PARSE_PARAMETERS_NONE();
    cpu_sample c;
    cpu_take(&c);
    object_init_ex(return_value, ta_ce_cpu_snapshot);
    zend_object *o = Z_OBJ_P(return_value);
    /* readonly properties: written once from the class's own scope */
    zend_class_entry *old = EG(fake_scope);
    EG(fake_scope) = ta_ce_cpu_snapshot;
    snapshot_set(o, "wallNs", c.wall);
    snapshot_set(o, "processUserNs", c.user);
    snapshot_set(o, "processSystemNs", c.sys);
    snapshot_set(o, "systemIdleNs", c.idle);
    snapshot_set(o, "systemBusyNs", c.busy);
    snapshot_set(o, "cpuCount", c.cpus);
    EG(fake_scope) = old;
}

ZEND_METHOD(Async_CpuSnapshot, __construct) { ZEND_PARSE_PARAMETERS_NONE(); }

static void add_loadavg(zval *arr, const char *key)
{
    double l[3];
    if (getloadavg(l, 3) != 3) {
        if (key) add_assoc_null(arr, key); else ZVAL_NULL(arr);
        return;
    }
    zval v;
    array_init_size(&v, 3);
    for (int i = 0; i < 3; i++) add_next_index_double(&v, l[i]);
    if (key) add_assoc_zval(arr, key, &v); else ZVAL_COPY_VALUE(arr, &v);
}

/* The last cpu_usage() sample of this PHP thread. */
static __thread cpu_sample tl_last;
static __thread bool tl_have_last;

/* {{{ Async\cpu_usage(): array — since this thread's previous call (the
 * first call: since the process started) */
ZEND_FUNCTION(Async_cpu_usage)
{
    ZEND_PARSE_PARAMETERS_NONE();
    cpu_sample now;
    cpu_take(&now);
    cpu_sample from = tl_last;
    if (!tl_have_last) {
        memset(&from, 0, sizeof from);
        /* the process's start, as far as the wall clock goes */
        from.wall = now.wall - (int64_t) ((now.user + now.sys) > 0 ? (now.user + now.sys) : 1);
        from.idle = now.idle;
        from.busy = now.busy;
    }
    tl_last = now;
    tl_have_last = true;
    double wall = (double) (now.wall - from.wall);
    double proc = (double) ((now.user - from.user) + (now.sys - from.sys));
    double sys_total = (double) ((now.idle - from.idle) + (now.busy - from.busy));
    double cores = wall > 0 ? proc / wall : 0;
    array_init(return_value);
    add_assoc_double(return_value, "process_cores", cores);
    add_assoc_double(return_value, "process_percent", now.cpus ? 100.0 * cores / (double) now.cpus : 0);
    add_assoc_double(return_value, "system_percent", sys_total > 0 ? 100.0 * (double) (now.busy - from.busy) / sys_total : 0);
    add_assoc_long(return_value, "cpu_count", (zend_long) now.cpus);
    add_assoc_double(return_value, "interval_sec", wall / 1e9);
    add_loadavg(return_value, "loadavg");
}

/* {{{ Async\loadavg(): ?array — [1 min, 5 min, 15 min] */
ZEND_FUNCTION(Async_loadavg)
{
    ZEND_PARSE_PARAMETERS_NONE();
    add_loadavg(return_value, NULL);
}

/* ---- signal() ------------------------------------------------------------------ */

/* A signal() call: its Future, the signal event, the coroutine watching
 * the cancellation token. Counted by the event's callback and the watcher. */
typedef struct {
    zend_async_event_callback_t base;
    ta_fstate *st;
    zend_async_signal_event_t *ev;
    ta_coro *watcher;
    int signo;
    uint32_t generation;
    uint32_t refs;
} sig_wait;

static void sig_release(sig_wait *w)
{
    if (--w->refs) return;
    ta_fstate_release(w->st);
    efree(w);
}

/* Stops the event (its callback goes with it). */
static void sig_stop(sig_wait *w)
{
    zend_async_signal_event_t *ev = w->ev;
    if (!ev) return;
    w->ev = NULL;
    if (w->generation == ta_async_reactor_generation()) {
        ev->base.stop(&ev->base);
        ZEND_ASYNC_EVENT_RELEASE(&ev->base);
    }
}

static void sig_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    sig_wait *w = (sig_wait *) cb;
    zend_object *c = NULL;
    if (!ta_fstate_done(w->st) && zend_enum_get_case_by_value(&c, ta_ce_signal, w->signo, NULL, true) == SUCCESS) {
        zval v;
        ZVAL_OBJ(&v, c);
        ta_fstate_complete(w->st, &v, NULL);     /* the Future resolves to the Signal case */
    }
    if (w->watcher) { ta_coro *c = w->watcher; w->watcher = NULL; ta_coro_cancel(c, NULL, "The signal arrived"); }
    w->refs++;              /* the stop below disposes this callback */
    sig_stop(w);
    sig_release(w);
}

static void sig_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev)
{
    (void) ev;
    sig_release((sig_wait *) cb);
}

/* The token completed first: the Future fails with OperationCanceledException. */
static void sig_watch_done(ta_coro *co, zend_object *uncaught)
{
    sig_wait *w = co->done_data;
    co->done_data = NULL;
    if (w->watcher == co && !ta_fstate_done(w->st)) {
        w->watcher = NULL;
        zend_object *ex = ta_async_new_exception(ta_ce_operation_canceled, 0, "Operation has been cancelled");
        if (uncaught) { GC_ADDREF(uncaught); zend_exception_set_previous(ex, uncaught); }
        ta_fstate_complete(w->st, NULL, ex);
        OBJ_RELEASE(ex);
        w->refs++;
        sig_stop(w);
        sig_release(w);
    }
    if (uncaught) { OBJ_RELEASE(uncaught); co->uncaught = NULL; }
    sig_release(w);
}

/* {{{ Async\signal(Signal $signal, ?Completable $cancellation = null): Future */
ZEND_FUNCTION(Async_signal)
{
    zend_object *sig, *cancel = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_OBJ_OF_CLASS(sig, ta_ce_signal)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_completable)
    ZEND_PARSE_PARAMETERS_END();
    zval *value = zend_enum_fetch_case_value(sig);
    int signo = (int) Z_LVAL_P(value);
    const char *name = ZSTR_VAL(Z_STR_P(zend_enum_fetch_case_name(sig)));
    if (ta_signal_is_apaches(signo)) {
        zend_argument_value_error(1, "must not be Signal::%s: Apache httpd owns it (stop, restart, graceful); "
                                  "use Apache's own controls, or SIGUSR2", name);
        RETURN_THROWS();
    }
    if (signo == SIGKILL || signo == SIGSEGV || signo == SIGILL || signo == SIGFPE || signo == SIGABRT) {
        zend_argument_value_error(1, "must not be Signal::%s: it cannot be waited for", name);
        RETURN_THROWS();
    }
    if (!strcmp(name, "SIGBREAK") || !strcmp(name, "SIGABRT2")) {
        zend_argument_value_error(1, "must not be Signal::%s: it exists on Windows only", name);
        RETURN_THROWS();
    }
    if (cancel && !ta_awaitable_of(cancel)) RETURN_THROWS();
    if (!ta_async_loop_ok()) RETURN_THROWS();
    /* Apache's threads are made with signals blocked: this thread, the
     * one running the loop, is where this one may arrive. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    zend_async_signal_event_t *ev = ZEND_ASYNC_NEW_SIGNAL_EVENT(signo);
    if (!ev) RETURN_THROWS();
    sig_wait *w = ecalloc(1, sizeof *w);
    w->base.callback = sig_fire;
    w->base.dispose = sig_dispose;
    w->signo = signo;
    w->ev = ev;
    w->generation = ta_async_reactor_generation();
    w->refs = 1;            /* the event's callback */
    RETVAL_OBJ(ta_future_pending(&w->st));
    ev->base.add_callback(&ev->base, &w->base);
    ev->base.start(&ev->base);
    if (EG(exception)) { zval_ptr_dtor(return_value); ZVAL_NULL(return_value); ZEND_ASYNC_EVENT_RELEASE(&ev->base); RETURN_THROWS(); }
    if (cancel) {
        zval fn, arg;
        ZVAL_STRING(&fn, "Async\\await");
        ZVAL_OBJ(&arg, cancel);
        ta_sched *s = ta_sched_current;
        ta_coro *c = ta_sched_spawn(s, &fn, 1, &arg, s->current ? s->current->scope : NULL, sig_watch_done);
        zval_ptr_dtor(&fn);
        if (c) { c->done_data = w; w->refs++; w->watcher = c; }
        else zend_clear_exception();
    }
}

/* {{{ Async\graceful_shutdown(?AsyncCancellation $cancellationError = null): void
 * The PHP thread stops taking requests, lets those in flight finish,
 * cancels what else runs and boots its worker script afresh. */
ZEND_FUNCTION(Async_graceful_shutdown)
{
    zend_object *error = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(error, ta_ce_async_cancellation)
    ZEND_PARSE_PARAMETERS_END();
    (void) error;
    ta_sched *s = ta_sched_current;
    if (!s || !s->graceful) { zend_throw_error(NULL, "Async\\graceful_shutdown() needs a TrueAsync worker thread"); RETURN_THROWS(); }
    s->graceful(s->graceful_ctx);
}

/* ---- registration ------------------------------------------------------------------ */

void ta_runtime_register(void)
{
    /* only CpuSnapshot::now() makes them */
    ta_ce_cpu_snapshot = register_class_Async_CpuSnapshot();
    ta_class_set_handlers(ta_ce_cpu_snapshot, snapshot_create, &h_snapshot, 0, NULL, true);
    /* php-async's numbering, which is Linux's (BREAK and ABRT2 are Windows') */
    ta_ce_signal = register_class_Async_Signal();
    ta_ce_signal->ce_flags |= ZEND_ACC_FINAL;   /* as enums declared in PHP are (8.2's gen_stub.php omits it) */
    zend_register_functions(NULL, ext_functions, NULL, MODULE_PERSISTENT);
}
