/* Async\Coroutine and Async\Timeout objects, and the awaitable both are:
 * what a coroutine awaiting them waits on. */
#include "php_async_objects.h"
#include "php_async_register.h"
#include "php_async_scope.h"
#include "ta_log.h"
#include "reactor_apr.h"
#include <zend_closures.h>
#include <zend_builtin_functions.h>
#include "stubs/php_async_coroutine_arginfo.h"

zend_class_entry *ta_ce_coroutine, *ta_ce_timeout;
static zend_object_handlers h_coroutine, h_timeout;

/* ---- awaitables: something coroutines wait for, completed once ------------- */

void ta_aw_add(ta_awaitable *aw, ta_coro *co)
{
    if (aw->n == aw->cap) {
        aw->cap = aw->cap ? aw->cap * 2 : 4;
        aw->waiters = erealloc(aw->waiters, aw->cap * sizeof *aw->waiters);
    }
    aw->waiters[aw->n++] = co;
}

void ta_aw_remove(ta_awaitable *aw, ta_coro *co)
{
    for (uint32_t i = 0; i < aw->n; i++) {
        if (aw->waiters[i] == co) {
            aw->waiters[i] = aw->waiters[--aw->n];
            return;
        }
    }
}

static __thread uint64_t tl_done_seq;

void ta_aw_complete(ta_awaitable *aw)
{
    aw->done = true;
    aw->done_seq = ++tl_done_seq;
    for (uint32_t i = 0; i < aw->n; i++) ta_coro_wake(aw->waiters[i]);
    aw->n = 0;
}

static void aw_free(ta_awaitable *aw)
{
    if (aw->waiters) efree(aw->waiters);
    aw->waiters = NULL;
    aw->n = aw->cap = 0;
}

/* ---- Coroutine objects -------------------------------------------------------- */

static zend_object *coroutine_create(zend_class_entry *ce)
{
    ta_coro_obj *o = ta_object_new(sizeof *o, ce, &h_coroutine);
    ZVAL_NULL(&o->result);
    return &o->std;
}

static void log_unobserved(zend_object *ex, uint64_t id);

static void coroutine_free(zend_object *obj)
{
    ta_coro_obj *o = CORO_OBJ(obj);
    /* Only now is it known that nobody will ever look at its exception. */
    if (o->exception && !o->observed && !instanceof_function(o->exception->ce, ta_ce_async_cancellation))
        log_unobserved(o->exception, o->id);
    zval_ptr_dtor(&o->result);
    if (o->exception) OBJ_RELEASE(o->exception);
    if (o->spawn_file) zend_string_release(o->spawn_file);
    if (o->finally) { zend_hash_destroy(o->finally); FREE_HASHTABLE(o->finally); }
    if (o->context) OBJ_RELEASE(o->context);
    aw_free(&o->aw);
    zend_object_std_dtor(obj);
}

static void log_unobserved(zend_object *ex, uint64_t id)
{
    ta_exception_info i;
    ta_exception_info_get(ex, &i);
    ta_log(TA_LOG_ERR, TA_LOGNO(00850) "Uncaught %s in coroutine %" PRIu64 ": %s in %s:" ZEND_LONG_FMT,
           i.cls, id, i.message, i.file, i.line);
}

zend_object *ta_coroutine_handle(ta_coro *co, bool spawned)
{
    if (co->handle) return co->handle;
    zval h;
    object_init_ex(&h, ta_ce_coroutine);
    ta_coro_obj *o = CORO_OBJ(Z_OBJ(h));
    o->co = co;
    o->id = co->id;
    /* a coroutine with an outcome handler of its own (a request's) has
     * its errors reported there already */
    o->observed = !spawned && co->on_done != NULL;
    if (co->spawn_file) { o->spawn_file = zend_string_copy(co->spawn_file); o->spawn_line = co->spawn_line; }
    co->handle = Z_OBJ(h);      /* the coroutine holds this reference */
    return co->handle;
}

/* finally() callbacks the end hook did not run (it never started) run in
 * a coroutine of their own, next. */
static void run_finally(ta_coro *co, ta_coro_obj *o, zend_object *scope)
{
    if (!o->finally) return;
    HashTable *ht = o->finally;
    o->finally = NULL;
    zval self;
    ZVAL_OBJ(&self, &o->std);
    ta_finally_spawn(ht, &self, scope, co->scope, true);
}

void ta_coroutine_settle(ta_coro *co, zend_object *uncaught)
{
    ta_coro_obj *o = CORO_OBJ(co->handle);
    if (o->aw.done) return;
    if (co->cancelled) o->cancelled = true;
    if (uncaught) {
        /* logged if the object dies unobserved */
        if (!o->exception) { GC_ADDREF(uncaught); o->exception = uncaught; }
    } else {
        zval_ptr_dtor(&o->result);
        ZVAL_COPY(&o->result, ta_coro_result(co));
    }
    ta_aw_complete(&o->aw);
}

void ta_spawned_done(ta_coro *co, zend_object *uncaught)
{
    /* its scope first: a handler there may take the exception (and make
     * the handle it is given) */
    zend_object *scope = co->ascope;
    bool taken = ta_scope_coroutine_done(co, uncaught);
    if (!co->handle) return;
    ta_coro_obj *o = CORO_OBJ(co->handle);
    o->co = NULL;
    if (co->context && !o->context) { o->context = co->context; GC_ADDREF(o->context); }
    if (uncaught && taken) o->observed = true;
    ta_coroutine_settle(co, uncaught);
    run_finally(co, o, scope);
}

/* ---- Timeout objects ------------------------------------------------------------ */

/* Completes a Timeout's awaitable when its timer fires. The timer owns it
 * (ref_count starts at 0) and frees it on dispose. */
typedef struct {
    zend_async_event_callback_t base;
    ta_awaitable *aw;
} ta_timeout_cb;

static void timeout_cb_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    ta_timeout_cb *t = (ta_timeout_cb *) cb;
    if (t->aw) { ta_awaitable *aw = t->aw; t->aw = NULL; ta_aw_complete(aw); }
}

static void timeout_cb_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev)
{
    (void) ev;
    efree(cb);
}

bool ta_async_loop_ok(void)
{
    if (zend_async_reactor_is_enabled() && ta_reactor_loop()) return true;
    zend_throw_error(NULL, "No event loop on this thread");
    return false;
}

bool ta_timeout_arm(ta_timeout_obj *o, zend_long ms)
{
    o->ms = ms;
    o->generation = ta_async_reactor_generation();
    if (!ta_async_loop_ok()) return false;
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT((zend_ulong) ms, false);
    if (!t) return false;
    ta_timeout_cb *cb = ecalloc(1, sizeof *cb);
    cb->base.callback = timeout_cb_fire;
    cb->base.dispose = timeout_cb_dispose;
    cb->aw = &o->aw;
    t->base.add_callback(&t->base, &cb->base);
    t->base.start(&t->base);
    if (EG(exception)) {
        ZEND_ASYNC_EVENT_RELEASE(&t->base);
        return false;
    }
    o->timer = t;
    return true;
}

static zend_object *timeout_create(zend_class_entry *ce)
{
    ta_timeout_obj *o = ta_object_new(sizeof *o, ce, &h_timeout);
    return &o->std;
}

static void timeout_free(zend_object *obj)
{
    ta_timeout_obj *o = TIMEOUT_OBJ(obj);
    if (o->timer && o->generation == ta_async_reactor_generation()) ZEND_ASYNC_EVENT_RELEASE(&o->timer->base);
    o->timer = NULL;
    aw_free(&o->aw);
    zend_object_std_dtor(obj);
}

/* ---- Timeout methods (Completable) ------------------------------------------------ */

ZEND_METHOD(Async_Timeout, cancel)
{
    zend_object *error = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(error, ta_ce_async_cancellation)
    ZEND_PARSE_PARAMETERS_END();
    ta_timeout_obj *o = TIMEOUT_OBJ(Z_OBJ_P(ZEND_THIS));
    if (o->aw.done || o->cancelled) return;
    /* It never trips now: a wait it bounds goes on without a deadline. */
    o->cancelled = true;
    if (o->timer && o->generation == ta_async_reactor_generation()) {
        o->timer->base.stop(&o->timer->base);
        ZEND_ASYNC_EVENT_RELEASE(&o->timer->base);
    }
    o->timer = NULL;
}

/* php-async: a cancelled Timeout is completed too (it will never fire) */
ZEND_METHOD(Async_Timeout, isCompleted) { ZEND_PARSE_PARAMETERS_NONE(); ta_timeout_obj *o = TIMEOUT_OBJ(Z_OBJ_P(ZEND_THIS)); RETURN_BOOL(o->aw.done || o->cancelled); }
ZEND_METHOD(Async_Timeout, isCancelled) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(TIMEOUT_OBJ(Z_OBJ_P(ZEND_THIS))->cancelled); }

/* ---- Coroutine methods -------------------------------------------------------------- */

static ta_coro_obj *coro_data(zval *this_zv)
{
    ta_coro_obj *o = CORO_OBJ(Z_OBJ_P(this_zv));
    if (!o->id) {
        zend_throw_error(NULL, "This Async\\Coroutine was not started by Async\\spawn()");
        return NULL;
    }
    return o;
}

#define CORO_OR_THROW(o) ta_coro_obj *o = coro_data(ZEND_THIS); if (!o) RETURN_THROWS()

ZEND_METHOD(Async_Coroutine, getId) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_LONG((zend_long) o->id); }
ZEND_METHOD(Async_Coroutine, isFinished) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_BOOL(o->aw.done); }
/* php-async: cancelled and finished (isCancellationRequested() is the request) */
ZEND_METHOD(Async_Coroutine, isCancelled) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_BOOL(o->cancelled && o->aw.done); }
/* The states as php-async defines them: started and not completed is
 * "running" (also while it waits); "suspended" is waiting for something;
 * "queued" is ready to run (to start, or to resume). */
static void file_and_line(zval *return_value, zend_string *file, uint32_t line)
{
    array_init_size(return_value, 2);
    if (file) add_next_index_str(return_value, zend_string_copy(file)); else add_next_index_null(return_value);
    add_next_index_long(return_value, file ? (zend_long) line : 0);
}

static void location(zval *return_value, zend_string *file, uint32_t line)
{
    if (!file) RETURN_STRING("unknown");
    RETURN_STR(zend_strpprintf(0, "%s:%u", ZSTR_VAL(file), line));
}

ZEND_METHOD(Async_Coroutine, getSpawnFileAndLine) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); file_and_line(return_value, o->spawn_file, o->spawn_line); }
ZEND_METHOD(Async_Coroutine, getSpawnLocation) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); location(return_value, o->spawn_file, o->spawn_line); }
ZEND_METHOD(Async_Coroutine, getSuspendFileAndLine)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    file_and_line(return_value, o->co ? o->co->suspend_file : NULL, o->co ? o->co->suspend_line : 0);
}
ZEND_METHOD(Async_Coroutine, getSuspendLocation)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    location(return_value, o->co ? o->co->suspend_file : NULL, o->co ? o->co->suspend_line : 0);
}

/* Its backtrace while it waits (null otherwise), as debug_backtrace()
 * would give it inside the coroutine: the frames of its fiber, without the
 * scheduler's own (the Fiber suspension on top, the runner below). */
ZEND_METHOD(Async_Coroutine, getTrace)
{
    zend_long options = DEBUG_BACKTRACE_PROVIDE_OBJECT, limit = 0;
    ZEND_PARSE_PARAMETERS_START(0, 2)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(options)
        Z_PARAM_LONG(limit)
    ZEND_PARSE_PARAMETERS_END();
    CORO_OR_THROW(o);
    ta_coro *co = o->co;
    /* parked: waiting, or queued to resume (suspend()) */
    zend_fiber *f = co && co->started && co->state != TA_CORO_RUNNING ? (zend_fiber *) co->fiber : NULL;
    if (!f || f->context.status != ZEND_FIBER_STATUS_SUSPENDED || !f->execute_data || !f->stack_bottom) RETURN_NULL();
    zend_execute_data *prev = f->stack_bottom->prev_execute_data, *cur = EG(current_execute_data);
    f->stack_bottom->prev_execute_data = NULL;
    EG(current_execute_data) = f->execute_data;
    zval all;
    zend_fetch_debug_backtrace(&all, 0, (int) options, 0);
    EG(current_execute_data) = cur;
    f->stack_bottom->prev_execute_data = prev;
    array_init(return_value);
    zval *frame;
    bool top = true;
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL(all), frame) {
        zval *fn = zend_hash_str_find(Z_ARRVAL_P(frame), ZEND_STRL("function"));
        zval *cls = zend_hash_str_find(Z_ARRVAL_P(frame), ZEND_STRL("class"));
        bool fiber_op = cls && Z_TYPE_P(cls) == IS_STRING && zend_string_equals_literal(Z_STR_P(cls), "Fiber");
        if (top && fiber_op) continue;
        top = false;
        if (cls && Z_TYPE_P(cls) == IS_STRING && zend_string_equals_literal(Z_STR_P(cls), "Async\\Coroutine")
            && fn && Z_TYPE_P(fn) == IS_STRING && zend_string_equals_literal(Z_STR_P(fn), "runner"))
            break;
        if (limit > 0 && zend_hash_num_elements(Z_ARRVAL_P(return_value)) >= (uint32_t) limit) break;
        Z_TRY_ADDREF_P(frame);
        add_next_index_zval(return_value, frame);
    } ZEND_HASH_FOREACH_END();
    zval_ptr_dtor(&all);
}

/* A callback for when it finishes (at once if it has). */
ZEND_METHOD(Async_Coroutine, finally)
{
    zval *cb;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(cb, zend_ce_closure)
    ZEND_PARSE_PARAMETERS_END();
    CORO_OR_THROW(o);
    if (o->aw.done) {
        zval self, rv;
        ZVAL_OBJ(&self, &o->std);
        ZVAL_UNDEF(&rv);
        call_user_function(NULL, NULL, cb, &rv, 1, &self);
        zval_ptr_dtor(&rv);
        return;
    }
    if (!o->finally) { ALLOC_HASHTABLE(o->finally); zend_hash_init(o->finally, 2, NULL, ZVAL_PTR_DTOR, 0); }
    Z_ADDREF_P(cb);
    zend_hash_next_index_insert(o->finally, cb);
}

ZEND_METHOD(Async_Coroutine, isCompleted) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_BOOL(o->aw.done); }
ZEND_METHOD(Async_Coroutine, isStarted) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_BOOL(o->aw.done || (o->co && o->co->started)); }
ZEND_METHOD(Async_Coroutine, isQueued) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_BOOL(o->co && o->co->state == TA_CORO_READY); }
ZEND_METHOD(Async_Coroutine, isRunning) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_BOOL(!o->aw.done && o->co && o->co->started); }
ZEND_METHOD(Async_Coroutine, isSuspended)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    /* php-async: waiting for events or in the queue to resume */
    RETURN_BOOL(!o->aw.done && o->co && o->co->started && o->co->state != TA_CORO_RUNNING && !o->co->finished);
}
ZEND_METHOD(Async_Coroutine, isCancellationRequested)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    RETURN_BOOL(!o->aw.done && (o->cancelled || (o->co && o->co->cancelled)));
}

ZEND_METHOD(Async_Coroutine, getResult)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    o->observed = true;
    RETURN_COPY(&o->result);
}

ZEND_METHOD(Async_Coroutine, getException)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    o->observed = true;
    if (!o->exception) RETURN_NULL();
    GC_ADDREF(o->exception);
    RETURN_OBJ(o->exception);
}

ZEND_METHOD(Async_Coroutine, cancel)
{
    zend_object *error = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(error, ta_ce_async_cancellation)
    ZEND_PARSE_PARAMETERS_END();
    CORO_OR_THROW(o);
    if (o->aw.done || !o->co) return;
    o->cancelled = true;
    ta_coro_cancel(o->co, error, "Coroutine cancelled");
}

/* Every coroutine runs inside this method on a pooled fiber (private: only
 * the scheduler starts it). */
ZEND_METHOD(Async_Coroutine, getContext)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    if (o->co) RETURN_OBJ_COPY(ta_coroutine_context(o->co));
    if (!o->context) o->context = ta_context_new(NULL);
    RETURN_OBJ_COPY(o->context);
}

/* What it waits for, as php-async describes it: the suspension point. */
ZEND_METHOD(Async_Coroutine, getAwaitingInfo)
{
    ZEND_PARSE_PARAMETERS_NONE();
    CORO_OR_THROW(o);
    array_init(return_value);
    if (!o->co || o->co->state != TA_CORO_SUSPENDED || !o->co->suspend_file) return;
    add_assoc_str(return_value, "file", zend_string_copy(o->co->suspend_file));
    add_assoc_long(return_value, "line", o->co->suspend_line);
}

/* The scheduler has one priority; kept for php-async's API (as php-async
 * itself does today). */
ZEND_METHOD(Async_Coroutine, asHiPriority) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); (void) o; RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS)); }

ZEND_METHOD(Async_Coroutine, runner)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_sched *s = ta_sched_current;
    /* Only a runner fiber the scheduler is starting may enter: called again
     * (by Reflection) from a coroutine it would run that coroutine twice. */
    if (!s || !s->starting_runner || !s->current || EG(active_fiber) == NULL
        || s->current->fiber != &EG(active_fiber)->std) {
        zend_throw_error(NULL, "Async\\Coroutine::runner() is internal");
        RETURN_THROWS();
    }
    s->starting_runner = 0;
    ta_sched_runner_main();
}

/* ---- registration ------------------------------------------------------------ */

void ta_coroutine_register(void)
{
    /* Coroutine and Timeout objects only come from spawn() and timeout(). */
    ta_ce_coroutine = register_class_Async_Coroutine(ta_ce_completable);
    ta_class_set_handlers(ta_ce_coroutine, coroutine_create, &h_coroutine, XtOffsetOf(ta_coro_obj, std),
                          coroutine_free, true);
    ta_sched_set_runner_function(zend_hash_str_find_ptr(&ta_ce_coroutine->function_table, ZEND_STRL("runner")));
    ta_sched_set_handle_done(ta_spawned_done);
    ta_ce_timeout = register_class_Async_Timeout(ta_ce_completable);
    ta_class_set_handlers(ta_ce_timeout, timeout_create, &h_timeout, XtOffsetOf(ta_timeout_obj, std),
                          timeout_free, true);
}
