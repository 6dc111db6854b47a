/* Coroutines on Zend fibers, one scheduler per PHP thread. Coroutines are
 * only ever started and resumed from the thread's loop (never nested), so a
 * coroutine switch is one fiber switch there and one back. */
#ifndef TA_SCHEDULER_H
#define TA_SCHEDULER_H

#include "php_common.h"
#include "ta_async_api.h"
#include <uv.h>

/* Parked runner fibers a thread keeps however idle it is. */
#define TA_KEEP_IDLE_RUNNERS 64

typedef struct ta_coro ta_coro;
typedef struct ta_sched ta_sched;
typedef struct ta_micro ta_micro;

/* Called once the coroutine's function has returned or thrown. `uncaught` is
 * the exception that escaped it, or NULL; borrowed. */
typedef void (*ta_coro_done_fn)(ta_coro *co, zend_object *uncaught);
/* Undoes what the coroutine is waiting on (stop a timer, leave a list). */
typedef void (*ta_wait_cancel_fn)(ta_coro *co, void *data);

enum { TA_CORO_READY = 1, TA_CORO_RUNNING, TA_CORO_SUSPENDED, TA_CORO_DONE };

struct ta_coro {
    zend_object *fiber;         /* the runner fiber it is on, once started */
    zval callable;
    zval *args;
    uint32_t argc;
    uint64_t id;
    int state;
    int started;
    int cancelled;              /* cancellation requested */
    int protect;                /* inside Async\protect(): a cancellation waits until it ends */
    int finished;               /* its function returned or threw */
    int fatal;                  /* a fatal error ended it (no result, no exception) */
    int no_stack;               /* no fiber stack could be had for it */
    int end_hooked;             /* the end hook ran in its fiber (see ta_sched_set_end_hook) */
    int release_hooked;         /* the release hook has run for it */
    int deferred;               /* on the list of those waiting for the loop's next run */
    zval result;
    zend_object *uncaught;
    zend_object *throw_in;      /* thrown at the suspension point on resume */
    ta_wait_cancel_fn wait_cancel;
    void *wait_data;
    void *suspend_data;         /* the suspend hooks' own (NULL at spawn); the scheduler never reads it */
    ta_coro_done_fn on_done;
    void *done_data;            /* for on_done */
    zend_object *scope;         /* the request's Response; a reference is held */
    zend_object *handle;        /* its Async\Coroutine object, if any; held */
    zend_object *ascope;        /* its Async\Scope; NULL: its request's or the thread's main one.
                                 * Not held: the Scope clears it when it goes */
    zend_object *context;       /* its coroutine_context(), made on demand; held */
    zend_string *spawn_file;    /* where PHP code spawned it (NULL: from C) */
    uint32_t spawn_line;
    zend_string *suspend_file;  /* where it waits now (NULL: not waiting) */
    uint32_t suspend_line;
    ta_coro *next_ready;
    ta_coro *prev, *next;       /* all live coroutines */
};

struct ta_sched {
    uv_loop_t *loop;
    zval runner;                /* Closure every runner fiber runs */
    zend_object **idle;         /* parked runner fibers, reused by spawns */
    uint32_t n_idle, cap_idle;
    ta_coro *ready_head, *ready_tail;
    ta_coro *later_head, *later_tail;   /* ta_coro_yield_to_loop(): ready once the loop ran */
    ta_coro *all;
    ta_coro *current;
    int starting_runner;        /* a new runner fiber is being started */
    uint64_t next_id;
    size_t live;
    uint64_t fatals;            /* fatal errors stopped at a coroutine boundary */
    zend_object *main_scope;    /* the Async\ API's main Scope, made on demand; held */
    ta_micro *micro_head, *micro_tail;  /* ta_sched_defer() */
    /* EG(error_reporting) handed across each switch: a Zend fiber keeps its
     * own and restores it on resume, but a pooled runner fiber serves many
     * requests, whose values are swapped in on the loop's side. */
    int error_reporting;
    /* Async\graceful_shutdown(): the thread that owns the loop is asked to
     * stop taking requests and boot afresh once they are done */
    void (*graceful)(void *ctx);
    void *graceful_ctx;
    /* Whether news waits that whoever drives the loop must see soon (a
     * request to start, a deadline): asked at most once a clock tick while
     * the ready queue keeps refilling itself, which then yields early.
     * Optional. */
    bool (*news)(void *ctx);
    void *news_ctx;
};

extern __thread ta_sched *ta_sched_current;

void ta_sched_init(ta_sched *s, uv_loop_t *loop);
/* Forgets every coroutine without touching Zend memory (after a bailout the
 * engine's heap is about to be discarded wholesale). */
void ta_sched_abandon(ta_sched *s);
/* Frees a few parked runner fibers beyond what the thread keeps; call when
 * idle. Returns whether more are left to free. */
int ta_sched_trim(ta_sched *s);
/* Releases the parked runner fibers (orderly stop, engine still sane). */
void ta_sched_destroy(ta_sched *s);
/* Set once at start-up: the internal function runner fibers execute. */
void ta_sched_set_runner_function(zend_function *fn);
/* Per-request engine state follows the coroutine: the layer above swaps a
 * request's state in before a coroutine of that request (scope) runs.
 * enter(scope) is called before every run (scope NULL: a coroutine of no
 * request), leave(scope) after it; the layer may keep the state swapped in
 * across runs of the same request (also across rounds of the loop, which
 * runs no PHP code), and must put the thread's own back at idle(): whoever
 * drives the loop calls ta_sched_idle() before PHP code outside coroutines
 * runs again, so that code always sees the thread's own. Set once at
 * start-up. */
typedef struct ta_scope_hooks {
    void (*enter)(zend_object *scope);
    void (*leave)(zend_object *scope);
    void (*idle)(void);
} ta_scope_hooks;
void ta_sched_set_scope_hooks(ta_scope_hooks hooks);
/* Called around every coroutine run (the watchdog times runs); set once at
 * start-up by the PHP thread's code. */
void ta_sched_set_run_hooks(void (*begin)(void), void (*end)(void));
void ta_sched_idle(void);
/* Set once at start-up: called when any coroutine finishes, after its own
 * on_done: completes its handle (co->handle, its Async\Coroutine object)
 * and tells its Async\Scope. */
void ta_sched_set_handle_done(ta_coro_done_fn fn);
/* Set once at start-up: called inside the coroutine's own fiber once its
 * function has returned or thrown (co->result or co->uncaught set), before
 * it counts as finished: PHP code that must run before anyone awaiting it
 * resumes (scope exception handlers, finally() callbacks) runs there, and
 * may wait. */
void ta_sched_set_end_hook(void (*fn)(ta_coro *co));
/* Set once at start-up: called once for every coroutine whose function has
 * ended, after the end hook and before its on_done. Inside the coroutine
 * when its function returned or threw (it may wait there; a cancellation
 * is held off until it returns); from the loop, outside any coroutine,
 * when a fatal error ended it, it never ran, or the engine unwound it.
 * What it releases (database handles) must not outlive the coroutine. */
void ta_sched_set_release_hook(void (*fn)(ta_coro *co));
/* Set once at start-up: suspend(co) runs each time a coroutine is about to
 * suspend (inside it); gone(co) once for every coroutine that finished or
 * was stopped, after the release hook, just before it is freed. What they
 * keep per coroutine they may hang on co->suspend_data. */
void ta_sched_set_suspend_hooks(void (*suspend)(ta_coro *co), void (*gone)(ta_coro *co));

/* From MINIT: Fiber::suspend()/resume()/throw() refuse a coroutine's own
 * fiber when called by PHP code (FiberError). */
void ta_sched_guard_fibers(void);
/* The body of a runner fiber (called by that internal function). */
void ta_sched_runner_main(void);

/* Creates a coroutine that will call `callable(...args)`; copies the zvals
 * and takes a reference to scope. NULL with an exception on failure. */
ta_coro *ta_sched_spawn(ta_sched *s, zval *callable, uint32_t argc, zval *args,
                        zend_object *scope, ta_coro_done_fn on_done);
/* Puts a coroutine just made ready (by ta_sched_spawn) at the head of the
 * ready queue: it runs next (php-async's high-priority spawn). */
void ta_sched_run_next(ta_sched *s, ta_coro *co);
/* A microtask, as php-async has them: run once on the loop's side as soon
 * as the coroutine running now has switched out (suspended or finished),
 * before the next one runs. Embedded in its owner; queued at most once at
 * a time (deferring a queued one does nothing). run(m, true) runs it;
 * run(m, false) only lets it go (the scheduler is destroyed). */
struct ta_micro {
    void (*run)(ta_micro *m, bool run);
    ta_micro *next;
    bool queued;
};
void ta_sched_defer(ta_sched *s, ta_micro *m);
/* The return value of a finished coroutine's function (borrowed). */
zval *ta_coro_result(ta_coro *co);
/* Runs the ready coroutines first in, first out, until none is ready (those
 * made ready meanwhile included; php-async's order), or until the loop is
 * due: TA_SCHED_IO_EVERY_MS have passed, or s->news says so. */
#define TA_SCHED_IO_EVERY_MS 100
void ta_sched_run_ready(ta_sched *s);
/* Also true while coroutines wait for the loop's next run: that run must
 * not block. */
static inline int ta_sched_has_ready(ta_sched *s) { return s->ready_head || s->later_head; }

/* An exception in flight when a coroutine waits (a destructor doing I/O
 * while the stack unwinds: a statement skipping the rest of an unbuffered
 * result) is kept aside while it waits, as a blocking call never sees it;
 * back, it is the one thrown, whatever the wait threw meanwhile (a
 * cancellation: the wait failed). ta_coro_wait() does so itself. */
typedef struct { zend_object *ex; const zend_op *before; } ta_in_flight;
ta_in_flight ta_in_flight_aside(void);
void ta_in_flight_back(ta_in_flight f);

/* The coroutine calling into C right now, or NULL outside coroutines. */
ta_coro *ta_coro_current(void);
/* From inside a coroutine: sleep until ta_coro_wake(). FAILURE means an
 * exception (e.g. cancellation) is now pending in the caller. */
zend_result ta_coro_wait(ta_wait_cancel_fn cancel, void *data);
void ta_coro_wake(ta_coro *co);
/* From inside a coroutine: sleeps until the loop has run once more and the
 * coroutines ready meanwhile have run (where php-async's I/O operations
 * resume: their completion is the loop's news). FAILURE: cancelled, the
 * exception pending. Outside a coroutine: SUCCESS at once. */
zend_result ta_coro_yield_to_loop(void);
/* Cancels: a waiting coroutine wakes with `error` (a reference is taken;
 * NULL: a new Async\CancellationError saying `why`) at its suspension point;
 * a running one gets it at its next suspension. */
void ta_coro_cancel(ta_coro *co, zend_object *error, const char *why);

/* Set once at start-up: called when a coroutine inside a protected
 * section (co->protect) is cancelled; its cancellation waits until the
 * section ends, or until ta_coro_unprotect(). */
void ta_sched_set_protected_cancel_hook(void (*fn)(ta_coro *co));
/* Ends one level of a coroutine's protection from outside it (a bound on
 * how long its cancellation may wait): with none left, a waiting
 * coroutine gets its pending cancellation at once, as ta_coro_cancel()
 * gives it. */
void ta_coro_unprotect(ta_coro *co);

/* Cancels every coroutine of one request (scope: its co->scope). */
void ta_sched_cancel_scope(ta_sched *s, zend_object *scope, const char *why);

/* For a coroutine that runs without suspending (called from the VM's
 * interrupt, at an opcode boundary): throws its pending cancellation now.
 * Returns whether it threw. */
bool ta_coro_throw_pending_cancel(void);

/* Async\CancellationError, created with `why` as message. */
zend_object *ta_new_cancellation(const char *why);

#endif
