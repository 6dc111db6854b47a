#include "scheduler.h"
#include "ta_async_api.h"
#include "coro_bailout.h"
#include "ta_clock.h"

#include <zend_closures.h>

__thread ta_sched *ta_sched_current;

static zend_function *fn_start, *fn_resume, *fn_throw, *fn_suspend;

static void lookup_fiber_methods(void)
{
    if (fn_start) return;
    HashTable *ft = &zend_ce_fiber->function_table;
    fn_start = zend_hash_str_find_ptr(ft, ZEND_STRL("start"));
    fn_resume = zend_hash_str_find_ptr(ft, ZEND_STRL("resume"));
    fn_throw = zend_hash_str_find_ptr(ft, ZEND_STRL("throw"));
    fn_suspend = zend_hash_str_find_ptr(ft, ZEND_STRL("suspend"));
}

/* Coroutines run on "runner" fibers that park themselves when their
 * function is done and are handed the next coroutine: a spawn in steady
 * state costs no stack mmap/munmap, only a fiber switch. */
#define TA_TRIM_BATCH 16

static zend_function *runner_fn;
static ta_scope_hooks scope_hooks;

void ta_sched_set_scope_hooks(ta_scope_hooks hooks) { scope_hooks = hooks; }

static void (*run_begin)(void), (*run_end)(void);

void ta_sched_set_run_hooks(void (*begin)(void), void (*end)(void)) { run_begin = begin; run_end = end; }

static ta_coro_done_fn handle_done;

void ta_sched_set_handle_done(ta_coro_done_fn fn) { handle_done = fn; }

static void (*end_hook)(ta_coro *co);

void ta_sched_set_end_hook(void (*fn)(ta_coro *co)) { end_hook = fn; }

static void (*release_hook)(ta_coro *co);

void ta_sched_set_release_hook(void (*fn)(ta_coro *co)) { release_hook = fn; }

static void (*suspend_hook)(ta_coro *co), (*gone_hook)(ta_coro *co);

void ta_sched_set_suspend_hooks(void (*suspend)(ta_coro *co), void (*gone)(ta_coro *co))
{
    suspend_hook = suspend;
    gone_hook = gone;
}

/* Inside the coroutine, its outcome already kept (co->result or
 * co->uncaught): a cancellation waits while the hook may still do I/O (a
 * ROLLBACK); only the engine unwinding the fiber gets through. */
static void run_release_hook_inside(ta_coro *co)
{
    if (!release_hook || co->release_hooked) return;
    co->release_hooked = 1;
    co->protect++;
    release_hook(co);
    co->protect--;
    if (EG(exception) && !zend_is_graceful_exit(EG(exception))) zend_clear_exception();
}

/* The end hook, then the release hook, inside the ending coroutine; only
 * the engine unwinding the fiber (left pending) stops them. */
static ta_coro *run_end_hooks(ta_sched *s, ta_coro *co)
{
    if (end_hook) {
        co->end_hooked = 1;
        end_hook(co);
        co = s->current;
        if (EG(exception) && zend_is_graceful_exit(EG(exception))) return co;
        if (EG(exception)) zend_clear_exception();
    }
    run_release_hook_inside(co);
    return s->current;
}

/* Runner fibers are the scheduler's: PHP code that gets one (through
 * Fiber::getCurrent()) must not suspend, resume or throw into it, or the
 * scheduler loses track of which coroutine runs. Marked with a flag bit
 * PHP 8.2 leaves unused; the scheduler authorises its own switches one
 * call at a time. */
#define TA_FIBER_RUNNER (1 << 7)
static __thread bool tl_switching;
static zif_handler orig_fiber_suspend, orig_fiber_resume, orig_fiber_throw;
static zend_class_entry *ce_fiber_error;

static bool fiber_allowed(zend_fiber *f, const char *what)
{
    if (tl_switching) { tl_switching = false; return true; }
    if (!f || !(f->flags & TA_FIBER_RUNNER)) return true;
    zend_throw_error(ce_fiber_error, "Cannot %s the fiber of an Async coroutine; use Async\\suspend() "
                     "and the other Async functions", what);
    return false;
}

static ZEND_FUNCTION(ta_fiber_suspend)
{
    if (!fiber_allowed(EG(active_fiber), "suspend")) RETURN_THROWS();
    orig_fiber_suspend(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

static ZEND_FUNCTION(ta_fiber_resume)
{
    if (!fiber_allowed((zend_fiber *) Z_OBJ_P(ZEND_THIS), "resume")) RETURN_THROWS();
    orig_fiber_resume(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

static ZEND_FUNCTION(ta_fiber_throw)
{
    if (!fiber_allowed((zend_fiber *) Z_OBJ_P(ZEND_THIS), "throw into")) RETURN_THROWS();
    orig_fiber_throw(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

void ta_sched_guard_fibers(void)
{
    struct { const char *name; zif_handler *orig; zif_handler wrapper; } hooks[] = {
        { "suspend", &orig_fiber_suspend, zif_ta_fiber_suspend },
        { "resume", &orig_fiber_resume, zif_ta_fiber_resume },
        { "throw", &orig_fiber_throw, zif_ta_fiber_throw },
    };
    ce_fiber_error = zend_hash_str_find_ptr(CG(class_table), ZEND_STRL("fibererror"));
    if (!ce_fiber_error) ce_fiber_error = zend_ce_error;
    for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
        zend_function *fn = zend_hash_str_find_ptr(&zend_ce_fiber->function_table, hooks[i].name, strlen(hooks[i].name));
        if (!fn || fn->type != ZEND_INTERNAL_FUNCTION || fn->internal_function.handler == hooks[i].wrapper) continue;
        *hooks[i].orig = fn->internal_function.handler;
        fn->internal_function.handler = hooks[i].wrapper;
    }
}

/* One fiber call by the scheduler itself. */
static void sched_fiber_call(zend_function *fn, zend_object *fiber, zval *rv, uint32_t argc, zval *argv)
{
    tl_switching = fn != fn_start;      /* start is not guarded: nothing would consume it */
    zend_call_known_function(fn, fiber, zend_ce_fiber, rv, argc, argv, NULL);
    tl_switching = false;
}

void ta_sched_set_runner_function(zend_function *fn) { runner_fn = fn; }

void ta_sched_init(ta_sched *s, uv_loop_t *loop)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->next_id = 1;
    lookup_fiber_methods();
    zend_create_fake_closure(&s->runner, runner_fn, runner_fn->common.scope, runner_fn->common.scope, NULL);
    ta_sched_current = s;
}

void ta_sched_abandon(ta_sched *s)
{
    uv_loop_t *loop = s->loop;
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->next_id = 1;
    ZVAL_UNDEF(&s->runner);
}

int ta_sched_trim(ta_sched *s)
{
    /* Freeing a fiber unmaps its stack: done a few at a time, and only when
     * nothing is ready to run, so a burst never pays for it. */
    for (int i = 0; i < TA_TRIM_BATCH && s->n_idle > TA_KEEP_IDLE_RUNNERS; i++)
        OBJ_RELEASE(s->idle[--s->n_idle]);
    return s->n_idle > TA_KEEP_IDLE_RUNNERS;
}

void ta_sched_defer(ta_sched *s, ta_micro *m)
{
    if (m->queued) return;
    m->queued = true;
    m->next = NULL;
    if (s->micro_tail) s->micro_tail->next = m; else s->micro_head = m;
    s->micro_tail = m;
}

static void run_micro(ta_sched *s, bool run)
{
    ta_micro *m;
    while ((m = s->micro_head)) {
        s->micro_head = m->next;
        if (!s->micro_head) s->micro_tail = NULL;
        m->next = NULL;
        m->queued = false;
        m->run(m, run);
    }
}

void ta_sched_destroy(ta_sched *s)
{
    run_micro(s, false);
    if (s->main_scope) { zend_object *m = s->main_scope; s->main_scope = NULL; OBJ_RELEASE(m); }
    /* A parked runner unwinds out of its suspend when released. */
    for (uint32_t i = 0; i < s->n_idle; i++) OBJ_RELEASE(s->idle[i]);
    if (s->idle) efree(s->idle);
    s->idle = NULL;
    s->n_idle = s->cap_idle = 0;
    zval_ptr_dtor(&s->runner);
    ZVAL_UNDEF(&s->runner);
}

/* Takes co off a queue (head, tail) of coroutines linked by next_ready. */
static void queue_unlink(ta_coro **head, ta_coro **tail, ta_coro *co)
{
    ta_coro **p = head, *prev = NULL;
    while (*p && *p != co) { prev = *p; p = &(*p)->next_ready; }
    if (!*p) return;
    *p = co->next_ready;
    if (*tail == co) *tail = prev;
    co->next_ready = NULL;
}

static void make_ready(ta_sched *s, ta_coro *co)
{
    co->state = TA_CORO_READY;
    co->next_ready = NULL;
    if (s->ready_tail) s->ready_tail->next_ready = co; else s->ready_head = co;
    s->ready_tail = co;
}

void ta_sched_run_next(ta_sched *s, ta_coro *co)
{
    if (co->state != TA_CORO_READY || s->ready_head == co) return;
    ta_coro **p = &s->ready_head, *prev = NULL;
    while (*p && *p != co) { prev = *p; p = &(*p)->next_ready; }
    if (!*p) return;
    *p = co->next_ready;
    if (s->ready_tail == co) s->ready_tail = prev;
    co->next_ready = s->ready_head;
    s->ready_head = co;
    if (!s->ready_tail) s->ready_tail = co;
}

ta_coro *ta_sched_spawn(ta_sched *s, zval *callable, uint32_t argc, zval *args,
                        zend_object *scope, ta_coro_done_fn on_done)
{
    if (!zend_is_callable(callable, 0, NULL)) {
        zend_type_error("A coroutine needs a valid callback");
        return NULL;
    }
    ta_coro *co = ecalloc(1, sizeof *co);
    ZVAL_COPY(&co->callable, callable);
    ZVAL_UNDEF(&co->result);
    co->argc = argc;
    if (argc) {
        co->args = safe_emalloc(argc, sizeof(zval), 0);
        for (uint32_t i = 0; i < argc; i++) ZVAL_COPY(&co->args[i], &args[i]);
    }
    co->id = s->next_id++;
    if (EG(current_execute_data)) {
        co->spawn_file = zend_get_executed_filename_ex();
        if (co->spawn_file) { zend_string_addref(co->spawn_file); co->spawn_line = zend_get_executed_lineno(); }
    }
    co->scope = scope;
    if (scope) GC_ADDREF(scope);
    co->on_done = on_done;
    co->next = s->all;
    if (s->all) s->all->prev = co;
    s->all = co;
    s->live++;
    make_ready(s, co);
    return co;
}

static void free_args(ta_coro *co)
{
    for (uint32_t i = 0; i < co->argc && co->args; i++) zval_ptr_dtor(&co->args[i]);
    if (co->args) efree(co->args);
    co->args = NULL;
    co->argc = 0;
}

static void coro_free(ta_sched *s, ta_coro *co)
{
    if (co->prev) co->prev->next = co->next; else s->all = co->next;
    if (co->next) co->next->prev = co->prev;
    s->live--;
    free_args(co);
    zval_ptr_dtor(&co->callable);
    zval_ptr_dtor(&co->result);
    if (co->uncaught) OBJ_RELEASE(co->uncaught);
    if (co->throw_in) OBJ_RELEASE(co->throw_in);
    if (co->scope) OBJ_RELEASE(co->scope);
    if (co->handle) OBJ_RELEASE(co->handle);
    if (co->context) OBJ_RELEASE(co->context);
    if (co->fiber) OBJ_RELEASE(co->fiber);
    if (co->spawn_file) zend_string_release(co->spawn_file);
    if (co->suspend_file) zend_string_release(co->suspend_file);
    efree(co);
}

void ta_sched_runner_main(void)
{
    ta_sched *s = ta_sched_current;
    for (;;) {
        ta_coro *co = s->current;
        EG(error_reporting) = s->error_reporting;
        zval rv;
        zend_fcall_info fci = {0};
        fci.size = sizeof fci;
        ZVAL_COPY_VALUE(&fci.function_name, &co->callable);
        fci.retval = &rv;
        fci.params = co->args;
        fci.param_count = co->argc;
        ZVAL_UNDEF(&rv);
        zend_call_function(&fci, NULL);
        /* Its frames are gone; the coroutine may have moved on in memory
         * terms, but s->current still names it until we park. */
        co = s->current;
        free_args(co);
        if (EG(exception)) {
            /* The engine unwinding this fiber (shutdown): let it through. */
            if (zend_is_graceful_exit(EG(exception))) {
                zval_ptr_dtor(&rv);
                co->finished = 1;
                return;
            }
            if (zend_is_unwind_exit(EG(exception))) {
                /* exit() ends this coroutine (a request's: the request),
                 * never the thread's other work */
                zend_clear_exception();
                zval_ptr_dtor(&rv);
                ZVAL_NULL(&co->result);
            } else {
                co->uncaught = EG(exception);
                GC_ADDREF(co->uncaught);
                zend_clear_exception();
                zval_ptr_dtor(&rv);
            }
        } else {
            ZVAL_COPY_VALUE(&co->result, &rv);
        }
        co = run_end_hooks(s, co);
        co->finished = 1;
        if (EG(exception)) return;      /* the engine unwinding this fiber while a hook waited */
        /* Park until the scheduler hands this fiber another coroutine. */
        zval ignored;
        s->error_reporting = EG(error_reporting);
        sched_fiber_call(fn_suspend, NULL, &ignored, 0, NULL);
        zval_ptr_dtor(&ignored);
        if (EG(exception)) return;                        /* destroyed while parked */
    }
}

static zend_object *take_runner(ta_sched *s)
{
    if (s->n_idle) return s->idle[--s->n_idle];
    zval fiber, rv;
    object_init_ex(&fiber, zend_ce_fiber);
    zend_call_known_instance_method_with_1_params(zend_ce_fiber->constructor, Z_OBJ(fiber), &rv, &s->runner);
    zval_ptr_dtor(&rv);
    if (EG(exception)) { zval_ptr_dtor(&fiber); return NULL; }
    ((zend_fiber *) Z_OBJ(fiber))->flags |= TA_FIBER_RUNNER;
    return Z_OBJ(fiber);
}

static void park_runner(ta_sched *s, zend_object *fiber)
{
    if (s->n_idle == s->cap_idle) {
        s->cap_idle = s->cap_idle ? s->cap_idle * 2 : 16;
        s->idle = erealloc(s->idle, s->cap_idle * sizeof *s->idle);
    }
    s->idle[s->n_idle++] = fiber;
}

/* Switches into the coroutine's fiber. A fatal error inside it comes back
 * here as a bailout: the engine is put back as it was before the switch and
 * the coroutine ends as failed, or, if that is not safe, the bailout goes on
 * to the thread's own boundary (which reboots the worker). */
static bool switch_guarded(ta_coro *co, zend_function *fn, uint32_t argc, zval *argv, zval *rv)
{
    ta_engine_mark m;
    volatile bool bailed = false;
    ta_sched *s = ta_sched_current;
    ta_engine_mark_take(&m);
    ta_boundary_enter();
    s->error_reporting = EG(error_reporting);
    zend_try {
        sched_fiber_call(fn, co->fiber, rv, argc, argv);
    } zend_catch {
        bailed = true;
    } zend_end_try();
    ta_boundary_leave();
    if (bailed && !ta_engine_recover(&m)) zend_bailout();
    if (!bailed) EG(error_reporting) = s->error_reporting;
    return bailed;
}

/* Switches into the coroutine where it left off: its first start, a throw
 * of its pending cancellation, or a plain resume. True if it bailed out. */
static bool enter(ta_sched *s, ta_coro *co)
{
    zval rv;
    bool bailed = false;
    ZVAL_UNDEF(&rv);
    if (!co->started) {
        co->started = 1;
        co->fiber = take_runner(s);
        if (!co->fiber) {
            co->uncaught = EG(exception);
            GC_ADDREF(co->uncaught);
            zend_clear_exception();
            co->finished = 1;
            return false;
        }
        bool init = ((zend_fiber *) co->fiber)->context.status == ZEND_FIBER_STATUS_INIT;
        s->starting_runner = init;
        bailed = switch_guarded(co, init ? fn_start : fn_resume, 0, NULL, &rv);
        s->starting_runner = 0;
    } else if (co->throw_in && !co->protect) {
        zval ex;
        ZVAL_OBJ(&ex, co->throw_in);
        co->throw_in = NULL;
        bailed = switch_guarded(co, fn_throw, 1, &ex, &rv);
        if (!bailed) zval_ptr_dtor(&ex);
    } else {
        bailed = switch_guarded(co, fn_resume, 0, NULL, &rv);
    }
    if (!bailed) zval_ptr_dtor(&rv);
    return bailed;
}

/* A fatal error ended the coroutine. Its fiber is dead (PHP freed the
 * stack); what its frames held stays allocated until the worker's state is
 * released. The request failed: so does everything it spawned. */
static void failed_fatally(ta_sched *s, ta_coro *co)
{
    s->fatals++;
    co->fatal = 1;
    co->finished = 1;
    if (!co->scope) return;
    for (ta_coro *o = s->all; o; o = o->next)
        if (o != co && o->scope == co->scope) ta_coro_cancel(o, NULL, "The request failed with a fatal error");
}

void ta_sched_cancel_scope(ta_sched *s, zend_object *scope, const char *why)
{
    for (ta_coro *o = s->all; o; o = o->next)
        if (o->scope == scope && o->state != TA_CORO_DONE) ta_coro_cancel(o, NULL, why);
}

static void finish(ta_sched *s, ta_coro *co)
{
    co->state = TA_CORO_DONE;
    zend_object *fiber = co->fiber;
    co->fiber = NULL;
    if (fiber) {
        zend_fiber *f = (zend_fiber *) fiber;
        if (f->context.status == ZEND_FIBER_STATUS_SUSPENDED) park_runner(s, fiber);
        else OBJ_RELEASE(fiber);
    }
    if (release_hook && !co->release_hooked) {
        co->release_hooked = 1;
        release_hook(co);
    }
    if (gone_hook) gone_hook(co);
    if (co->on_done) co->on_done(co, co->uncaught);
    if (handle_done) handle_done(co, co->uncaught);
    coro_free(s, co);
}

static void run_one(ta_sched *s, ta_coro *co)
{
    if (!co->started && co->cancelled) {
        /* Cancelled before it ever ran: it never runs, and ends with its
         * cancellation as its outcome. */
        co->started = 1;
        co->uncaught = co->throw_in;
        co->throw_in = NULL;
        co->finished = 1;
        finish(s, co);
        return;
    }
    s->current = co;
    co->state = TA_CORO_RUNNING;
    zend_object *scope = co->scope;
    if (scope_hooks.enter) scope_hooks.enter(scope);
    if (run_begin) run_begin();
    bool bailed = enter(s, co);
    if (run_end) run_end();
    if (scope_hooks.leave) scope_hooks.leave(scope);
    s->current = NULL;
    if (bailed) {
        failed_fatally(s, co);
    } else if (EG(exception)) {
        /* Escaped the runner itself: count it as the coroutine's. A fiber
         * still in INIT could not get a stack (mmap failed). */
        if (co->fiber && ((zend_fiber *) co->fiber)->context.status == ZEND_FIBER_STATUS_INIT) co->no_stack = 1;
        if (!co->uncaught) { co->uncaught = EG(exception); GC_ADDREF(co->uncaught); }
        zend_clear_exception();
        co->finished = 1;
    }
    if (co->finished) finish(s, co);
    else if (co->state == TA_CORO_RUNNING) co->state = TA_CORO_SUSPENDED;
}

/* php-async's order: the ready queue runs first in, first out until it is
 * empty, what becomes ready meanwhile included (a spawn, a wake-up, a
 * suspend() going to the back); the loop polls I/O only then. A queue that
 * keeps refilling itself still yields to the loop: every
 * TA_SCHED_IO_EVERY_MS (php-async's reactor interval), or sooner when
 * s->news, asked once a clock tick, says news waits (a request came). */
void ta_sched_run_ready(ta_sched *s)
{
    uint64_t began = 0, looked = 0;
    /* the loop ran since they yielded to it: behind what it made ready */
    while (s->later_head) {
        ta_coro *co = s->later_head;
        s->later_head = co->next_ready;
        co->deferred = 0;
        make_ready(s, co);
    }
    s->later_tail = NULL;
    while (s->ready_head) {
        ta_coro *co = s->ready_head;
        s->ready_head = co->next_ready;
        if (!s->ready_head) s->ready_tail = NULL;
        co->next_ready = NULL;
        run_one(s, co);
        run_micro(s, true);
        if (!s->ready_head) break;
        uint64_t now = ta_coarse_ms();
        if (!began) { began = looked = now; continue; }
        if (now - began >= TA_SCHED_IO_EVERY_MS) break;
        if (now != looked && s->news && s->news(s->news_ctx)) break;
        looked = now;
    }
}

void ta_sched_idle(void)
{
    if (scope_hooks.idle) scope_hooks.idle();
}

ta_coro *ta_coro_current(void)
{
    ta_sched *s = ta_sched_current;
    if (!s || !s->current) return NULL;
    /* A handler may run Fibers of its own; only our fiber may be suspended. */
    if (EG(active_fiber) != (zend_fiber *) s->current->fiber) return NULL;
    return s->current;
}

/* With an exception in flight the suspension would not happen at all (the
 * engine calls no function then): the coroutine ran on from where it had
 * queued itself, and the loop resumed it again later. */
ta_in_flight ta_in_flight_aside(void)
{
    ta_in_flight f = { EG(exception), EG(opline_before_exception) };
    EG(exception) = NULL;
    return f;
}

void ta_in_flight_back(ta_in_flight f)
{
    if (!f.ex) return;
    if (EG(exception)) OBJ_RELEASE(EG(exception));
    EG(exception) = f.ex;
    EG(opline_before_exception) = f.before;
}

zend_result ta_coro_wait(ta_wait_cancel_fn cancel, void *data)
{
    ta_sched *s = ta_sched_current;
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "This operation must be called inside a coroutine");
        return FAILURE;
    }
    if (co->cancelled && !co->protect) {
        if (cancel) cancel(co, data);
        /* a plain yield queued it: it does not wait after all, and a
         * coroutine left queued would be run, or freed, from the queue */
        if (co->state == TA_CORO_READY) { queue_unlink(&s->ready_head, &s->ready_tail, co); co->state = TA_CORO_RUNNING; }
        zval ex;
        ZVAL_OBJ(&ex, co->throw_in ? co->throw_in : ta_new_cancellation("Coroutine cancelled"));
        co->throw_in = NULL;
        zend_throw_exception_object(&ex);
        return FAILURE;
    }
    co->wait_cancel = cancel;
    co->wait_data = data;
    co->suspend_file = zend_get_executed_filename_ex();
    if (co->suspend_file) { zend_string_addref(co->suspend_file); co->suspend_line = zend_get_executed_lineno(); }
    /* A coroutine that queued itself (a plain yield) stays READY. */
    if (co->state == TA_CORO_RUNNING) co->state = TA_CORO_SUSPENDED;
    if (suspend_hook) suspend_hook(co);
    zval rv;
    s->error_reporting = EG(error_reporting);
    ta_in_flight aside = ta_in_flight_aside();
    sched_fiber_call(fn_suspend, NULL, &rv, 0, NULL);
    EG(error_reporting) = s->error_reporting;
    zval_ptr_dtor(&rv);
    s->current = co;
    co->wait_cancel = NULL;
    co->wait_data = NULL;
    if (co->suspend_file) { zend_string_release(co->suspend_file); co->suspend_file = NULL; co->suspend_line = 0; }
    bool failed = EG(exception) != NULL;
    ta_in_flight_back(aside);
    return failed ? FAILURE : SUCCESS;
}

/* Takes a coroutine off the list of those waiting for the loop's next run;
 * also the cancel function of that wait. */
static void later_unlink(ta_coro *co, void *data)
{
    (void) data;
    queue_unlink(&ta_sched_current->later_head, &ta_sched_current->later_tail, co);
    co->deferred = 0;
}

void ta_coro_wake(ta_coro *co)
{
    ta_sched *s = ta_sched_current;
    if (co->state != TA_CORO_SUSPENDED) return;
    if (co->deferred) later_unlink(co, NULL);
    co->wait_cancel = NULL;
    co->wait_data = NULL;
    make_ready(s, co);
}

zend_result ta_coro_yield_to_loop(void)
{
    ta_sched *s = ta_sched_current;
    ta_coro *co = ta_coro_current();
    if (!co) return SUCCESS;
    co->deferred = 1;
    co->next_ready = NULL;
    if (s->later_tail) s->later_tail->next_ready = co; else s->later_head = co;
    s->later_tail = co;
    return ta_coro_wait(later_unlink, NULL);
}

zval *ta_coro_result(ta_coro *co)
{
    return &co->result;
}

static void (*protected_cancel_hook)(ta_coro *co);

void ta_sched_set_protected_cancel_hook(void (*fn)(ta_coro *co)) { protected_cancel_hook = fn; }

/* A waiting coroutine wakes to its cancellation. */
static void deliver_cancel(ta_coro *co)
{
    if (co->state != TA_CORO_SUSPENDED || !co->started) return;
    if (co->wait_cancel) co->wait_cancel(co, co->wait_data);
    co->wait_cancel = NULL;
    co->wait_data = NULL;
    make_ready(ta_sched_current, co);
}

void ta_coro_cancel(ta_coro *co, zend_object *error, const char *why)
{
    if (co->state == TA_CORO_DONE || co->cancelled) return;
    co->cancelled = 1;
    if (!co->throw_in) {
        if (error) GC_ADDREF(error);
        co->throw_in = error ? error : ta_new_cancellation(why);
    }
    /* protected: its wait goes on; protect() throws this when it ends */
    if (!co->protect) deliver_cancel(co);
    else if (protected_cancel_hook) protected_cancel_hook(co);
}

void ta_coro_unprotect(ta_coro *co)
{
    if (co->protect > 0) co->protect--;
    /* thrown already (it unwinds): the wait it is in fails as a new one would */
    if (!co->protect && co->cancelled && co->state != TA_CORO_DONE) deliver_cancel(co);
}

zend_object *ta_new_cancellation(const char *why)
{
    zval ex;
    object_init_ex(&ex, ta_ce_async_cancellation);
    zend_update_property_string(zend_ce_error, Z_OBJ(ex), ZEND_STRL("message"), why);
    return Z_OBJ(ex);
}

bool ta_coro_throw_pending_cancel(void)
{
    ta_coro *co = ta_coro_current();
    if (!co || !co->cancelled || co->protect || !co->throw_in || EG(exception)) return false;
    zval ex;
    ZVAL_OBJ(&ex, co->throw_in);
    co->throw_in = NULL;
    zend_throw_exception_object(&ex);
    return true;
}
