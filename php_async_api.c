#include "php_async_api.h"
#include "scheduler.h"
#include "ta_log.h"
#include "reactor_apr.h"

#include <zend_exceptions.h>
#include <zend_interfaces.h>
#include <errno.h>
#include <time.h>

static zend_class_entry *ce_awaitable, *ce_coroutine, *ce_timeout, *ce_channel;
static zend_object_handlers h_coroutine, h_timeout, h_channel;

/* Coroutine and Timeout objects only come from spawn() and timeout(); `new`
 * is refused the way the engine refuses it for Closure. */
static zend_function *refuse_new(zend_object *obj)
{
    zend_throw_error(NULL, "Instantiation of class %s is not allowed", ZSTR_VAL(obj->ce->name));
    return NULL;
}

/* ---- awaitables: something coroutines wait for, completed once ------------- */

typedef struct ta_awaitable {
    bool done;
    ta_coro **waiters;
    uint32_t n, cap;
} ta_awaitable;

static void aw_add(ta_awaitable *aw, ta_coro *co)
{
    if (aw->n == aw->cap) {
        aw->cap = aw->cap ? aw->cap * 2 : 4;
        aw->waiters = erealloc(aw->waiters, aw->cap * sizeof *aw->waiters);
    }
    aw->waiters[aw->n++] = co;
}

static void aw_remove(ta_awaitable *aw, ta_coro *co)
{
    for (uint32_t i = 0; i < aw->n; i++) {
        if (aw->waiters[i] == co) {
            aw->waiters[i] = aw->waiters[--aw->n];
            return;
        }
    }
}

static void aw_complete(ta_awaitable *aw)
{
    aw->done = true;
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

typedef struct {
    ta_coro *co;                /* NULL once finished */
    uint64_t id;                /* 0: not made by spawn() (PDO can make objects) */
    zval result;
    zend_object *exception;
    bool cancelled;
    bool observed;              /* someone awaited it or read its outcome */
    ta_awaitable aw;
    zend_object std;
} ta_coro_obj;

#define CORO_OBJ(o) ((ta_coro_obj *) ((char *) (o) - XtOffsetOf(ta_coro_obj, std)))

static zend_object *coroutine_create(zend_class_entry *ce)
{
    ta_coro_obj *o = zend_object_alloc(sizeof *o, ce);
    zend_object_std_init(&o->std, ce);
    object_properties_init(&o->std, ce);
    o->std.handlers = &h_coroutine;
    ZVAL_NULL(&o->result);
    return &o->std;
}

static void coroutine_free(zend_object *obj)
{
    ta_coro_obj *o = CORO_OBJ(obj);
    zval_ptr_dtor(&o->result);
    if (o->exception) OBJ_RELEASE(o->exception);
    aw_free(&o->aw);
    zend_object_std_dtor(obj);
}

static void log_unobserved(zend_object *ex, uint64_t id)
{
    zend_class_entry *base = zend_get_exception_base(ex);
    zval rv1, rv2, rv3;
    zval *msg = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_MESSAGE), 1, &rv1);
    zval *file = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_FILE), 1, &rv2);
    zval *line = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_LINE), 1, &rv3);
    ta_log(TA_LOG_ERR, TA_LOGNO(00850) "Uncaught %s in coroutine %" PRIu64 ": %s in %s:" ZEND_LONG_FMT,
           ZSTR_VAL(ex->ce->name), id,
           Z_TYPE_P(msg) == IS_STRING ? Z_STRVAL_P(msg) : "",
           Z_TYPE_P(file) == IS_STRING ? Z_STRVAL_P(file) : "?",
           Z_TYPE_P(line) == IS_LONG ? Z_LVAL_P(line) : 0);
}

static void spawned_done(ta_coro *co, zend_object *uncaught)
{
    ta_coro_obj *o = CORO_OBJ(co->handle);
    o->co = NULL;
    if (uncaught) {
        GC_ADDREF(uncaught);
        o->exception = uncaught;
        /* Nobody is waiting to handle it: say so, with where it came from. */
        if (o->aw.n == 0 && !instanceof_function(uncaught->ce, ta_ce_cancellation_error))
            log_unobserved(uncaught, o->id);
    } else {
        ZVAL_COPY(&o->result, ta_coro_result(co));
    }
    aw_complete(&o->aw);
}

/* ---- timers on the reactor ---------------------------------------------------- */

/* A reactor callback that wakes a coroutine or completes an awaitable. The
 * event owns it (ref_count starts at 0) and frees it on dispose. */
typedef struct {
    zend_async_event_callback_t base;
    ta_coro *co;                /* wake this coroutine, or */
    ta_awaitable *aw;           /* complete this awaitable */
} ta_wake_cb;

static void wake_cb_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    ta_wake_cb *w = (ta_wake_cb *) cb;
    if (w->co) { ta_coro *co = w->co; w->co = NULL; ta_coro_wake(co); }
    if (w->aw) { ta_awaitable *aw = w->aw; w->aw = NULL; aw_complete(aw); }
}

static void wake_cb_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev)
{
    (void) ev;
    efree(cb);
}

/* A started one-shot timer that wakes `co` or completes `aw`; NULL with an
 * exception thrown if the reactor refused. */
static zend_async_timer_event_t *timer_start(zend_long ms, ta_coro *co, ta_awaitable *aw)
{
    if (!zend_async_reactor_is_enabled() || !ta_reactor_loop()) {
        zend_throw_error(NULL, "No event loop on this thread");
        return NULL;
    }
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT((zend_ulong) ms, false);
    if (!t) return NULL;
    ta_wake_cb *cb = ecalloc(1, sizeof *cb);
    cb->base.callback = wake_cb_fire;
    cb->base.dispose = wake_cb_dispose;
    cb->co = co;
    cb->aw = aw;
    t->base.add_callback(&t->base, &cb->base);
    t->base.start(&t->base);
    if (EG(exception)) {
        ZEND_ASYNC_EVENT_RELEASE(&t->base);
        return NULL;
    }
    return t;
}

/* ---- Timeout objects ------------------------------------------------------------ */

typedef struct {
    zend_async_timer_event_t *timer;
    /* ta_async_reactor_generation() when the timer was taken: after a
     * bailout the reactor frees every event at once, and a Timeout that
     * outlived it (in a global) must leave its timer alone. */
    uint32_t generation;
    zend_long ms;               /* 0: not made by timeout() */
    ta_awaitable aw;
    zend_object std;
} ta_timeout_obj;

#define TIMEOUT_OBJ(o) ((ta_timeout_obj *) ((char *) (o) - XtOffsetOf(ta_timeout_obj, std)))

static zend_object *timeout_create(zend_class_entry *ce)
{
    ta_timeout_obj *o = zend_object_alloc(sizeof *o, ce);
    zend_object_std_init(&o->std, ce);
    object_properties_init(&o->std, ce);
    o->std.handlers = &h_timeout;
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

/* ---- waiting -------------------------------------------------------------------- */

/* What a module awaitable completes; NULL for anything else (a userland
 * class may implement Async\Awaitable, the module cannot wait for it), with
 * an Error thrown for one that could never complete (not made by spawn() or
 * timeout()). */
static ta_awaitable *awaitable_of(zend_object *obj)
{
    if (obj->ce == ce_coroutine) {
        if (CORO_OBJ(obj)->id) return &CORO_OBJ(obj)->aw;
        zend_throw_error(NULL, "This Async\\Coroutine was not started by Async\\spawn()");
        return NULL;
    }
    if (obj->ce == ce_timeout) {
        if (TIMEOUT_OBJ(obj)->ms) return &TIMEOUT_OBJ(obj)->aw;
        zend_throw_error(NULL, "This Async\\Timeout was not made by Async\\timeout()");
        return NULL;
    }
    return NULL;
}

/* The optional cancellation argument of await and the await_* functions. */
static bool cancellation_ok(zend_object *cancel, uint32_t arg)
{
    if (!cancel || awaitable_of(cancel)) return true;
    if (!EG(exception)) zend_argument_type_error(arg, "must be an awaitable made by Async\\spawn() or Async\\timeout() (cancellation)");
    return false;
}

static void nothing_to_undo(ta_coro *co, void *data) { (void) co; (void) data; }

/* Suspends the current coroutine until one of `list` completes. */
static zend_result wait_any(ta_awaitable **list, uint32_t n)
{
    ta_coro *co = ta_coro_current();
    for (uint32_t i = 0; i < n; i++) if (list[i]->done) return SUCCESS;
    if (!co) {
        /* Outside coroutines: drive the loop until the first one completes. */
        ta_sched *s = ta_sched_current;
        if (!s || !ta_reactor_loop()) { zend_throw_error(NULL, "No event loop on this thread"); return FAILURE; }
        for (;;) {
            for (uint32_t i = 0; i < n; i++) if (list[i]->done) return SUCCESS;
            ta_sched_run_ready(s);
            if (EG(exception)) return FAILURE;
            for (uint32_t i = 0; i < n; i++) if (list[i]->done) return SUCCESS;
            if (!ZEND_ASYNC_REACTOR_EXECUTE(ta_sched_has_ready(s)) && !ta_sched_has_ready(s)) {
                zend_throw_error(NULL, "Deadlock: nothing left that could complete the awaited operation");
                return FAILURE;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) aw_add(list[i], co);
    zend_result rc = ta_coro_wait(nothing_to_undo, NULL);
    for (uint32_t i = 0; i < n; i++) aw_remove(list[i], co);
    return rc;
}

/* Returns the outcome of a completed awaitable, or throws it. */
static void outcome(zend_object *obj, zval *return_value)
{
    if (obj->ce == ce_coroutine) {
        ta_coro_obj *o = CORO_OBJ(obj);
        o->observed = true;
        if (o->exception) {
            GC_ADDREF(o->exception);
            zend_throw_exception_object(&(zval){ .value.obj = o->exception, .u1.type_info = IS_OBJECT_EX });
            return;
        }
        ZVAL_COPY(return_value, &o->result);
        return;
    }
    ta_timeout_obj *t = TIMEOUT_OBJ(obj);
    zend_throw_exception_ex(ta_ce_timeout_exception, 0, "Timed out after " ZEND_LONG_FMT " ms", t->ms);
}

/* {{{ Async\await(Awaitable $awaitable, ?Awaitable $cancellation = null): mixed */
ZEND_FUNCTION(Async_await)
{
    zend_object *target, *cancel = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_OBJ_OF_CLASS(target, ce_awaitable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ce_awaitable)
    ZEND_PARSE_PARAMETERS_END();
    ta_awaitable *list[2] = { awaitable_of(target), NULL };
    if (!list[0]) {
        if (!EG(exception)) zend_type_error("Async\\await(): unsupported awaitable");
        RETURN_THROWS();
    }
    if (!cancellation_ok(cancel, 2)) RETURN_THROWS();
    if (cancel) list[1] = awaitable_of(cancel);
    if (target->ce == ce_coroutine && CORO_OBJ(target)->co && CORO_OBJ(target)->co == ta_coro_current()) {
        zend_throw_error(NULL, "A coroutine cannot await itself");
        RETURN_THROWS();
    }
    if (wait_any(list, cancel ? 2 : 1) == FAILURE) RETURN_THROWS();
    if (list[0]->done) { outcome(target, return_value); return; }
    /* The cancellation completed first. */
    if (cancel->ce == ce_coroutine && !CORO_OBJ(cancel)->exception) {
        zend_throw_exception_object(&(zval){ .value.obj = ta_new_cancellation("Cancelled: the cancellation awaitable completed"),
                                             .u1.type_info = IS_OBJECT_EX });
        RETURN_THROWS();
    }
    outcome(cancel, return_value);
}

/* Collects the awaitables of an iterable, keeping keys. */
static bool collect(zval *iterable, HashTable *out)
{
    zend_hash_init(out, 8, NULL, ZVAL_PTR_DTOR, 0);
    bool ok = true;
    if (Z_TYPE_P(iterable) == IS_ARRAY) {
        zend_string *k; zend_ulong idx; zval *v;
        ZEND_HASH_FOREACH_KEY_VAL(Z_ARRVAL_P(iterable), idx, k, v) {
            ZVAL_DEREF(v);
            if (Z_TYPE_P(v) != IS_OBJECT || !awaitable_of(Z_OBJ_P(v))) { ok = false; break; }
            Z_ADDREF_P(v);
            if (k) zend_hash_update(out, k, v); else zend_hash_index_update(out, idx, v);
        } ZEND_HASH_FOREACH_END();
    } else {
        zend_object_iterator *it = zend_user_it_get_new_iterator(Z_OBJCE_P(iterable), iterable, 0);
        if (!it) return false;
        for (it->funcs->rewind(it); !EG(exception) && it->funcs->valid(it) == SUCCESS; it->funcs->move_forward(it)) {
            zval *v = it->funcs->get_current_data(it), key;
            if (!v || EG(exception)) break;
            ZVAL_DEREF(v);
            if (Z_TYPE_P(v) != IS_OBJECT || !awaitable_of(Z_OBJ_P(v))) { ok = false; break; }
            Z_ADDREF_P(v);
            it->funcs->get_current_key(it, &key);
            if (Z_TYPE(key) == IS_STRING) zend_hash_update(out, Z_STR(key), v);
            else if (Z_TYPE(key) == IS_LONG) zend_hash_index_update(out, Z_LVAL(key), v);
            else zend_hash_next_index_insert(out, v);
            zval_ptr_dtor(&key);
        }
        zend_iterator_dtor(it);
        if (EG(exception)) ok = false;
    }
    if (!ok) {
        zend_hash_destroy(out);
        if (!EG(exception)) zend_type_error("Expected an iterable of Async\\Awaitable");
    }
    return ok;
}

static void add_keyed(zval *arr, zend_string *k, zend_ulong idx, zval *v)
{
    if (k) zend_hash_update(Z_ARRVAL_P(arr), k, v); else zend_hash_index_update(Z_ARRVAL_P(arr), idx, v);
}

/* Waits until every awaitable completed (or the cancellation did). */
static zend_result wait_all(HashTable *items, zend_object *cancel)
{
    for (;;) {
        uint32_t n = 0, cap = zend_hash_num_elements(items) + 1;
        ta_awaitable **list = emalloc(cap * sizeof *list);
        zval *v;
        ZEND_HASH_FOREACH_VAL(items, v) {
            ta_awaitable *aw = awaitable_of(Z_OBJ_P(v));
            if (!aw->done) list[n++] = aw;
        } ZEND_HASH_FOREACH_END();
        if (n == 0) { efree(list); return SUCCESS; }
        if (cancel) list[n++] = awaitable_of(cancel);
        zend_result rc = wait_any(list, n);
        bool cancelled = cancel && awaitable_of(cancel)->done;
        efree(list);
        if (rc == FAILURE) return FAILURE;
        if (cancelled) {
            zval ignored;
            ZVAL_UNDEF(&ignored);
            outcome(cancel, &ignored);
            zval_ptr_dtor(&ignored);
            if (!EG(exception))
                zend_throw_exception_object(&(zval){ .value.obj = ta_new_cancellation("Cancelled: the cancellation awaitable completed"),
                                                     .u1.type_info = IS_OBJECT_EX });
            return FAILURE;
        }
    }
}

/* {{{ Async\await_all(iterable $triggers, ?Awaitable $cancellation = null,
 *                     bool $preserveKeyOrder = true, bool $fillNull = false): array
 * Returns [results, errors], both keyed like $triggers. */
ZEND_FUNCTION(Async_await_all)
{
    zval *iterable;
    zend_object *cancel = NULL;
    bool preserve = true, fill_null = false;
    ZEND_PARSE_PARAMETERS_START(1, 4)
        Z_PARAM_ITERABLE(iterable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ce_awaitable)
        Z_PARAM_BOOL(preserve)
        Z_PARAM_BOOL(fill_null)
    ZEND_PARSE_PARAMETERS_END();
    (void) preserve;   /* results always come back under their keys, in input order */
    if (!cancellation_ok(cancel, 2)) RETURN_THROWS();
    HashTable items;
    if (!collect(iterable, &items)) RETURN_THROWS();
    if (wait_all(&items, cancel) == FAILURE) { zend_hash_destroy(&items); RETURN_THROWS(); }
    zval results, errors;
    array_init(&results);
    array_init(&errors);
    zend_string *k; zend_ulong idx; zval *v;
    ZEND_HASH_FOREACH_KEY_VAL(&items, idx, k, v) {
        zval r;
        ZVAL_UNDEF(&r);
        outcome(Z_OBJ_P(v), &r);
        if (EG(exception)) {
            zval e;
            ZVAL_OBJ(&e, EG(exception));
            GC_ADDREF(EG(exception));
            zend_clear_exception();
            add_keyed(&errors, k, idx, &e);
            if (fill_null) { ZVAL_NULL(&r); add_keyed(&results, k, idx, &r); }
        } else {
            add_keyed(&results, k, idx, &r);
        }
    } ZEND_HASH_FOREACH_END();
    zend_hash_destroy(&items);
    array_init_size(return_value, 2);
    add_next_index_zval(return_value, &results);
    add_next_index_zval(return_value, &errors);
}

/* {{{ Async\await_any_or_fail(iterable $triggers, ?Awaitable $cancellation = null): mixed
 * The outcome of whichever completes first (its exception is thrown). */
ZEND_FUNCTION(Async_await_any_or_fail)
{
    zval *iterable;
    zend_object *cancel = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ITERABLE(iterable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ce_awaitable)
    ZEND_PARSE_PARAMETERS_END();
    if (!cancellation_ok(cancel, 2)) RETURN_THROWS();
    HashTable items;
    if (!collect(iterable, &items)) RETURN_THROWS();
    uint32_t n = zend_hash_num_elements(&items);
    if (n == 0) {
        zend_hash_destroy(&items);
        zend_argument_value_error(1, "must contain at least one awaitable");
        RETURN_THROWS();
    }
    ta_awaitable **list = emalloc((n + 1) * sizeof *list);
    zend_object **objs = emalloc((n + 1) * sizeof *objs);
    uint32_t i = 0;
    zval *v;
    ZEND_HASH_FOREACH_VAL(&items, v) {
        objs[i] = Z_OBJ_P(v);
        list[i++] = awaitable_of(Z_OBJ_P(v));
    } ZEND_HASH_FOREACH_END();
    if (cancel) { objs[i] = cancel; list[i++] = awaitable_of(cancel); }
    if (wait_any(list, i) == SUCCESS) {
        for (uint32_t j = 0; j < i; j++) {
            if (!list[j]->done) continue;
            if (cancel && objs[j] == cancel && cancel->ce == ce_coroutine && !CORO_OBJ(cancel)->exception)
                zend_throw_exception_object(&(zval){ .value.obj = ta_new_cancellation("Cancelled: the cancellation awaitable completed"),
                                                     .u1.type_info = IS_OBJECT_EX });
            else
                outcome(objs[j], return_value);
            break;
        }
    }
    efree(list);
    efree(objs);
    zend_hash_destroy(&items);
}

/* {{{ Async\spawn(callable $task, mixed ...$args): Coroutine */
ZEND_FUNCTION(Async_spawn)
{
    zval *callable, *args = NULL;
    uint32_t argc = 0;
    ZEND_PARSE_PARAMETERS_START(1, -1)
        Z_PARAM_ZVAL(callable)
        Z_PARAM_VARIADIC('*', args, argc)
    ZEND_PARSE_PARAMETERS_END();
    if (!zend_is_callable(callable, 0, NULL)) {
        zend_argument_type_error(1, "must be a valid callback");
        RETURN_THROWS();
    }
    ta_sched *s = ta_sched_current;
    if (!s) {
        zend_throw_error(NULL, "Async\\spawn() needs a TrueAsync worker thread");
        RETURN_THROWS();
    }
    /* A coroutine spawned while handling a request belongs to its scope. */
    zend_object *scope = s->current ? s->current->scope : NULL;
    ta_coro *co = ta_sched_spawn(s, callable, argc, args, scope, spawned_done);
    if (!co) RETURN_THROWS();
    object_init_ex(return_value, ce_coroutine);
    ta_coro_obj *o = CORO_OBJ(Z_OBJ_P(return_value));
    o->co = co;
    o->id = co->id;
    co->handle = Z_OBJ_P(return_value);
    GC_ADDREF(co->handle);
}

/* {{{ Async\timeout(int $ms): Awaitable — completes (with TimeoutException) after $ms */
ZEND_FUNCTION(Async_timeout)
{
    zend_long ms;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(ms)
    ZEND_PARSE_PARAMETERS_END();
    if (ms <= 0) {
        zend_argument_value_error(1, "must be greater than 0");
        RETURN_THROWS();
    }
    object_init_ex(return_value, ce_timeout);
    ta_timeout_obj *o = TIMEOUT_OBJ(Z_OBJ_P(return_value));
    o->ms = ms;
    o->generation = ta_async_reactor_generation();
    o->timer = timer_start(ms, NULL, &o->aw);
    if (!o->timer) { zval_ptr_dtor(return_value); ZVAL_NULL(return_value); RETURN_THROWS(); }
}

/* ---- delay and suspend ------------------------------------------------------------ */

static void delay_cancel(ta_coro *co, void *data)
{
    (void) co;
    zend_async_timer_event_t *t = data;
    t->base.stop(&t->base);
}

/* {{{ Async\delay(int $ms): void */
ZEND_FUNCTION(Async_delay)
{
    zend_long ms;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(ms)
    ZEND_PARSE_PARAMETERS_END();
    if (ms < 0) {
        zend_argument_value_error(1, "must be greater than or equal to 0");
        RETURN_THROWS();
    }
    ta_coro *co = ta_coro_current();
    if (!co) {
        /* Outside a coroutine (worker boot) it blocks, like usleep(). */
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        return;
    }
    if (ms == 0) {
        /* a plain yield */
        co->state = TA_CORO_SUSPENDED;
        ta_coro_wake(co);
        ta_coro_wait(nothing_to_undo, NULL);
        return;
    }
    zend_async_timer_event_t *t = timer_start(ms, co, NULL);
    if (!t) RETURN_THROWS();
    ta_coro_wait(delay_cancel, t);
    ZEND_ASYNC_EVENT_RELEASE(&t->base);
}

/* {{{ Async\suspend(): void — lets the other ready coroutines run */
ZEND_FUNCTION(Async_suspend)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_coro *co = ta_coro_current();
    if (!co) return;
    co->state = TA_CORO_SUSPENDED;
    ta_coro_wake(co);
    ta_coro_wait(nothing_to_undo, NULL);
}

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
ZEND_METHOD(Async_Coroutine, isCancelled) { ZEND_PARSE_PARAMETERS_NONE(); CORO_OR_THROW(o); RETURN_BOOL(o->cancelled); }

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
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(error, ta_ce_cancellation_error)
    ZEND_PARSE_PARAMETERS_END();
    CORO_OR_THROW(o);
    if (o->aw.done || !o->co) return;
    o->cancelled = true;
    ta_coro_cancel(o->co, error, "Coroutine cancelled");
}

/* Every coroutine runs inside this method on a pooled fiber (private: only
 * the scheduler starts it). */
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

/* ---- Channel -------------------------------------------------------------------------- */

typedef struct ta_chan_waiter {
    ta_coro *co;
    zval value;                 /* sender: what it sends; receiver: what it got */
    bool done;                  /* handed over */
    struct ta_chan_waiter *next;
} ta_chan_waiter;

typedef struct {
    zend_long capacity;
    zval *buf;                  /* a ring of buf_cap slots, grown up to capacity */
    zend_long buf_cap, head, count;
    bool constructed, closed;
    ta_chan_waiter *senders, *receivers;   /* FIFO lists */
    zend_object std;
} ta_channel_obj;

#define CHAN_OBJ(o) ((ta_channel_obj *) ((char *) (o) - XtOffsetOf(ta_channel_obj, std)))
#define CHAN_THIS() CHAN_OBJ(Z_OBJ_P(ZEND_THIS))

static zend_object *channel_create(zend_class_entry *ce)
{
    ta_channel_obj *o = zend_object_alloc(sizeof *o, ce);
    zend_object_std_init(&o->std, ce);
    object_properties_init(&o->std, ce);
    o->std.handlers = &h_channel;
    return &o->std;
}

static void channel_free(zend_object *obj)
{
    ta_channel_obj *o = CHAN_OBJ(obj);
    for (zend_long i = 0; i < o->count; i++) zval_ptr_dtor(&o->buf[(o->head + i) % o->buf_cap]);
    if (o->buf) efree(o->buf);
    zend_object_std_dtor(obj);
}

static void wl_push(ta_chan_waiter **list, ta_chan_waiter *w)
{
    w->next = NULL;
    while (*list) list = &(*list)->next;
    *list = w;
}

static ta_chan_waiter *wl_pop(ta_chan_waiter **list)
{
    ta_chan_waiter *w = *list;
    if (w) *list = w->next;
    return w;
}

static void wl_remove(ta_chan_waiter **list, ta_chan_waiter *w)
{
    for (; *list; list = &(*list)->next) if (*list == w) { *list = w->next; return; }
}

/* Room for one more value (count < capacity): the ring is allocated as it
 * fills, so a large capacity costs nothing until it is used. */
static void chan_grow(ta_channel_obj *o)
{
    if (o->count < o->buf_cap) return;
    zend_long cap = o->buf_cap ? (o->buf_cap > o->capacity / 2 ? o->capacity : o->buf_cap * 2) : 16;
    if (cap > o->capacity) cap = o->capacity;
    zval *buf = safe_emalloc((size_t) cap, sizeof(zval), 0);
    for (zend_long i = 0; i < o->count; i++) ZVAL_COPY_VALUE(&buf[i], &o->buf[(o->head + i) % o->buf_cap]);
    if (o->buf) efree(o->buf);
    o->buf = buf;
    o->buf_cap = cap;
    o->head = 0;
}

static void throw_closed(void)
{
    zend_throw_exception(ta_ce_channel_exception, "Channel is closed", 0);
}

ZEND_METHOD(Async_Channel, __construct)
{
    zend_long capacity = 0;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(capacity)
    ZEND_PARSE_PARAMETERS_END();
    if (capacity < 0) {
        zend_argument_value_error(1, "must be greater than or equal to 0");
        RETURN_THROWS();
    }
    ta_channel_obj *o = CHAN_THIS();
    /* Its ring and waiters depend on the capacity it was made with. */
    if (o->constructed) {
        zend_throw_error(NULL, "Async\\Channel object is already constructed");
        RETURN_THROWS();
    }
    o->constructed = true;
    o->capacity = capacity;
}

ZEND_METHOD(Async_Channel, send)
{
    zval *value;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(value)
    ZEND_PARSE_PARAMETERS_END();
    ta_channel_obj *o = CHAN_THIS();
    if (o->closed) { throw_closed(); RETURN_THROWS(); }
    ta_chan_waiter *r = wl_pop(&o->receivers);
    if (r) {
        ZVAL_COPY(&r->value, value);
        r->done = true;
        ta_coro_wake(r->co);
        return;
    }
    if (o->count < o->capacity) {
        chan_grow(o);
        ZVAL_COPY(&o->buf[(o->head + o->count) % o->buf_cap], value);
        o->count++;
        return;
    }
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "Channel::send() would block outside a coroutine");
        RETURN_THROWS();
    }
    ta_chan_waiter w = { .co = co };
    ZVAL_COPY(&w.value, value);
    wl_push(&o->senders, &w);
    /* keep the channel alive while we sit in its list */
    GC_ADDREF(&o->std);
    zend_result rc = ta_coro_wait(nothing_to_undo, NULL);
    if (!w.done) { wl_remove(&o->senders, &w); zval_ptr_dtor(&w.value); }
    bool closed_meanwhile = !w.done && o->closed && rc == SUCCESS;
    OBJ_RELEASE(&o->std);
    if (rc == FAILURE) RETURN_THROWS();
    if (closed_meanwhile) { throw_closed(); RETURN_THROWS(); }
}

ZEND_METHOD(Async_Channel, recv)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_channel_obj *o = CHAN_THIS();
    if (o->count > 0) {
        ZVAL_COPY_VALUE(return_value, &o->buf[o->head]);
        o->head = (o->head + 1) % o->buf_cap;
        o->count--;
        ta_chan_waiter *s = wl_pop(&o->senders);
        if (s) {
            /* the slot just emptied takes it */
            ZVAL_COPY_VALUE(&o->buf[(o->head + o->count) % o->buf_cap], &s->value);
            o->count++;
            s->done = true;
            ta_coro_wake(s->co);
        }
        return;
    }
    ta_chan_waiter *s = wl_pop(&o->senders);
    if (s) {
        ZVAL_COPY_VALUE(return_value, &s->value);
        s->done = true;
        ta_coro_wake(s->co);
        return;
    }
    if (o->closed) { throw_closed(); RETURN_THROWS(); }
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "Channel::recv() would block outside a coroutine");
        RETURN_THROWS();
    }
    ta_chan_waiter w = { .co = co };
    ZVAL_UNDEF(&w.value);
    wl_push(&o->receivers, &w);
    GC_ADDREF(&o->std);
    zend_result rc = ta_coro_wait(nothing_to_undo, NULL);
    if (!w.done) wl_remove(&o->receivers, &w);
    OBJ_RELEASE(&o->std);
    if (w.done) {
        if (rc == FAILURE) { zval_ptr_dtor(&w.value); RETURN_THROWS(); }
        RETURN_COPY_VALUE(&w.value);
    }
    if (rc == FAILURE) RETURN_THROWS();
    throw_closed();
    RETURN_THROWS();
}

ZEND_METHOD(Async_Channel, close)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_channel_obj *o = CHAN_THIS();
    if (o->closed) return;
    o->closed = true;
    ta_chan_waiter *w;
    while ((w = wl_pop(&o->receivers))) ta_coro_wake(w->co);
    while ((w = wl_pop(&o->senders))) ta_coro_wake(w->co);
}

ZEND_METHOD(Async_Channel, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(CHAN_THIS()->closed); }
ZEND_METHOD(Async_Channel, count) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->count); }
ZEND_METHOD(Async_Channel, capacity) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->capacity); }

/* ---- arginfo and registration ------------------------------------------------------------ */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_delay, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, ms, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_void, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_spawn, 0, 1, Async\\Coroutine, 0)
    ZEND_ARG_TYPE_INFO(0, task, IS_CALLABLE, 0)
    ZEND_ARG_VARIADIC_TYPE_INFO(0, args, IS_MIXED, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await, 0, 1, IS_MIXED, 0)
    ZEND_ARG_OBJ_INFO(0, awaitable, Async\\Awaitable, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_timeout, 0, 1, Async\\Awaitable, 0)
    ZEND_ARG_TYPE_INFO(0, ms, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await_all, 0, 1, IS_ARRAY, 0)
    ZEND_ARG_TYPE_INFO(0, triggers, IS_ITERABLE, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, preserveKeyOrder, _IS_BOOL, 0, "true")
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, fillNull, _IS_BOOL, 0, "false")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_await_any, 0, 1, IS_MIXED, 0)
    ZEND_ARG_TYPE_INFO(0, triggers, IS_ITERABLE, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, cancellation, Async\\Awaitable, 1, "null")
ZEND_END_ARG_INFO()

const zend_function_entry ta_async_functions[] = {
    ZEND_NS_FALIAS("Async", spawn, Async_spawn, ai_spawn)
    ZEND_NS_FALIAS("Async", await, Async_await, ai_await)
    ZEND_NS_FALIAS("Async", suspend, Async_suspend, ai_void)
    ZEND_NS_FALIAS("Async", delay, Async_delay, ai_delay)
    ZEND_NS_FALIAS("Async", timeout, Async_timeout, ai_timeout)
    ZEND_NS_FALIAS("Async", await_all, Async_await_all, ai_await_all)
    ZEND_NS_FALIAS("Async", await_any_or_fail, Async_await_any_or_fail, ai_await_any)
    ZEND_FE_END
};

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_int, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_bool, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_mixed, 0, 0, IS_MIXED, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_OBJ_INFO_EX(ai_throwable, 0, 0, Throwable, 1)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_cancel, 0, 0, IS_VOID, 0)
    ZEND_ARG_OBJ_INFO_WITH_DEFAULT_VALUE(0, error, Async\\CancellationError, 1, "null")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_INFO_EX(ai_chan_ctor, 0, 0, 0)
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, capacity, IS_LONG, 0, "0")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_send, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, value, IS_MIXED, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry coroutine_methods[] = {
    ZEND_ME(Async_Coroutine, getId, ai_int, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isFinished, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, isCancelled, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getResult, ai_mixed, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, getException, ai_throwable, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, cancel, ai_cancel, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Coroutine, runner, ai_void, ZEND_ACC_PRIVATE | ZEND_ACC_STATIC)
    ZEND_FE_END
};

static const zend_function_entry channel_methods[] = {
    ZEND_ME(Async_Channel, __construct, ai_chan_ctor, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Channel, send, ai_send, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Channel, recv, ai_mixed, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Channel, close, ai_void, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Channel, isClosed, ai_bool, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Channel, count, ai_int, ZEND_ACC_PUBLIC)
    ZEND_ME(Async_Channel, capacity, ai_int, ZEND_ACC_PUBLIC)
    ZEND_FE_END
};

static zend_class_entry *register_class(const char *name, const zend_function_entry *m,
                                        zend_class_entry *parent, uint32_t flags)
{
    zend_class_entry ce;
    INIT_CLASS_ENTRY_EX(ce, name, strlen(name), m);
    zend_class_entry *out = parent ? zend_register_internal_class_ex(&ce, parent) : zend_register_internal_class(&ce);
    out->ce_flags |= flags;
    return out;
}

static void handlers_for(zend_object_handlers *h, size_t offset, void (*free_obj)(zend_object *), bool sealed_new)
{
    memcpy(h, zend_get_std_object_handlers(), sizeof *h);
    h->offset = (int) offset;
    h->free_obj = free_obj;
    h->clone_obj = NULL;
    if (sealed_new) h->get_constructor = refuse_new;
}

void ta_async_api_register(void)
{
    zend_class_entry ce;
    INIT_NS_CLASS_ENTRY(ce, "Async", "Awaitable", NULL);
    ce_awaitable = zend_register_internal_interface(&ce);

    const uint32_t sealed = ZEND_ACC_FINAL | ZEND_ACC_NO_DYNAMIC_PROPERTIES | ZEND_ACC_NOT_SERIALIZABLE;
    ce_coroutine = register_class("Async\\Coroutine", coroutine_methods, NULL, sealed);
    zend_class_implements(ce_coroutine, 1, ce_awaitable);
    ce_coroutine->create_object = coroutine_create;
    handlers_for(&h_coroutine, XtOffsetOf(ta_coro_obj, std), coroutine_free, true);
    ta_sched_set_runner_function(zend_hash_str_find_ptr(&ce_coroutine->function_table, ZEND_STRL("runner")));

    ce_timeout = register_class("Async\\Timeout", NULL, NULL, sealed);
    zend_class_implements(ce_timeout, 1, ce_awaitable);
    ce_timeout->create_object = timeout_create;
    handlers_for(&h_timeout, XtOffsetOf(ta_timeout_obj, std), timeout_free, true);

    ce_channel = register_class("Async\\Channel", channel_methods, NULL, sealed);
    zend_class_implements(ce_channel, 1, zend_ce_countable);
    ce_channel->create_object = channel_create;
    handlers_for(&h_channel, XtOffsetOf(ta_channel_obj, std), channel_free, false);
}
