/* Async\TaskGroup and Async\TaskSet, as php-async defines them: tasks
 * spawned in a child Scope of their own, at most `concurrency` at a time
 * (the rest queued, spawn() waiting once the queue holds queueLimit),
 * their outcomes kept by key. A TaskGroup keeps every outcome (all(),
 * race(), any(), getResults()); a TaskSet hands each out once (joinNext(),
 * joinAny(), joinAll()) and forgets it. foreach over either yields
 * key => [result, error] in completion order. */
#include "php_async_objects.h"
#include "php_async_scope.h"
#include "php_async_register.h"
#include "php_async_iter.h"
#include <zend_interfaces.h>
#include <zend_closures.h>
#include "stubs/php_async_taskgroup_arginfo.h"

zend_class_entry *ta_ce_task_group, *ta_ce_task_set;
static zend_object_handlers h_group;

enum { T_QUEUED, T_RUNNING, T_DONE, T_GONE };
enum { W_ALL = 1, W_RACE, W_ANY, W_NEXT };

typedef struct ta_task {
    zval key, callable, result;
    zval *args;
    uint32_t argc;
    zend_object *error;
    int state;
    uint64_t seq;               /* completion order */
    struct ta_task *next_done;  /* completion order */
    struct ta_group_obj *group;
} ta_task;

/* A Future handed out by all()/race()/any()/join*() not completed yet. */
typedef struct ta_gwait {
    int kind;
    bool ignore_errors;
    ta_fstate *st;
    struct ta_gwait *next;
} ta_gwait;

typedef struct ta_group_obj {
    bool is_set;                /* TaskSet: outcomes handed out once */
    bool constructed, closed, cancelled, finally_ran;
    zend_object *scope;         /* held */
    zend_long concurrency, queue_limit;   /* 0: none */
    HashTable tasks;            /* key => ta_task*, in spawn order */
    zend_long next_key;
    uint64_t done_seq;
    uint32_t running, queued;
    ta_task *done_head, *done_tail;   /* settled, in completion order, not yet taken by an iterator */
    ta_gwait *waits;
    ta_awaitable waiters;       /* coroutines waiting for any change */
    HashTable *finally;
    zend_object std;
} ta_group_obj;

#define GROUP(o) OBJ_OF(ta_group_obj, o)
#define GROUP_THIS() GROUP(Z_OBJ_P(ZEND_THIS))

static void task_free(zval *zv)
{
    ta_task *t = Z_PTR_P(zv);
    zval_ptr_dtor(&t->key);
    zval_ptr_dtor(&t->callable);
    zval_ptr_dtor(&t->result);
    for (uint32_t i = 0; i < t->argc; i++) zval_ptr_dtor(&t->args[i]);
    if (t->args) efree(t->args);
    if (t->error) OBJ_RELEASE(t->error);
    efree(t);
}

static zend_object *group_create(zend_class_entry *ce)
{
    ta_group_obj *o = ta_object_new(sizeof *o, ce, &h_group);
    o->is_set = ce == ta_ce_task_set;
    zend_hash_init(&o->tasks, 8, NULL, task_free, 0);
    return &o->std;
}

static void group_free(zend_object *obj)
{
    ta_group_obj *o = GROUP(obj);
    while (o->waits) {
        ta_gwait *w = o->waits;
        o->waits = w->next;
        ta_fstate_release(w->st);
        efree(w);
    }
    zend_hash_destroy(&o->tasks);
    if (o->scope) OBJ_RELEASE(o->scope);
    if (o->finally) { zend_hash_destroy(o->finally); FREE_HASHTABLE(o->finally); }
    if (o->waiters.waiters) efree(o->waiters.waiters);
    zend_object_std_dtor(obj);
}

static HashTable *group_get_gc(zend_object *obj, zval **table, int *n)
{
    ta_group_obj *o = GROUP(obj);
    zend_get_gc_buffer *buf = zend_get_gc_buffer_create();
    zval *zv;
    ZEND_HASH_FOREACH_VAL(&o->tasks, zv) {
        ta_task *t = Z_PTR_P(zv);
        zend_get_gc_buffer_add_zval(buf, &t->callable);
        zend_get_gc_buffer_add_zval(buf, &t->result);
        for (uint32_t i = 0; i < t->argc; i++) zend_get_gc_buffer_add_zval(buf, &t->args[i]);
    } ZEND_HASH_FOREACH_END();
    if (o->scope) zend_get_gc_buffer_add_obj(buf, o->scope);
    if (o->finally) ZEND_HASH_FOREACH_VAL(o->finally, zv) { zend_get_gc_buffer_add_zval(buf, zv); } ZEND_HASH_FOREACH_END();
    zend_get_gc_buffer_use(buf, table, n);
    return NULL;
}

static bool settled(ta_group_obj *o) { return !o->running && !o->queued; }

static void wake(ta_group_obj *o)
{
    for (uint32_t i = 0; i < o->waiters.n; i++) ta_coro_wake(o->waiters.waiters[i]);
    o->waiters.n = 0;
}

/* The results (and the errors) of the settled tasks, by key. */
static void outcomes(ta_group_obj *o, zval *results, zval *errors, bool take)
{
    if (results) array_init(results);
    if (errors) array_init(errors);
    zval *zv;
    ZEND_HASH_FOREACH_VAL(&o->tasks, zv) {
        ta_task *t = Z_PTR_P(zv);
        if (t->state != T_DONE) continue;
        if (t->error) {
            if (errors) { GC_ADDREF(t->error); zval e; ZVAL_OBJ(&e, t->error); array_set_zval_key(Z_ARRVAL_P(errors), &t->key, &e); zval_ptr_dtor(&e); }
        } else if (results) {
            array_set_zval_key(Z_ARRVAL_P(results), &t->key, &t->result);
        }
        if (take) t->state = T_GONE;
    } ZEND_HASH_FOREACH_END();
}

static zend_object *composite_of(zval *errors)
{
    zend_object *c = ta_async_new_exception(ta_ce_composite_exception, 0, "Multiple exceptions occurred");
    zval *e;
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(errors), e) { ta_composite_add(c, Z_OBJ_P(e)); } ZEND_HASH_FOREACH_END();
    return c;
}

/* The first task to have settled (any outcome, or successes only) that is
 * still there. */
static ta_task *first_done(ta_group_obj *o, bool success_only)
{
    ta_task *best = NULL;
    zval *zv;
    ZEND_HASH_FOREACH_VAL(&o->tasks, zv) {
        ta_task *t = Z_PTR_P(zv);
        if (t->state == T_DONE && (!success_only || !t->error) && (!best || t->seq < best->seq)) best = t;
    } ZEND_HASH_FOREACH_END();
    return best;
}

/* Completes what it can of the Futures handed out. */
static void resolve_waits(ta_group_obj *o)
{
    ta_gwait **pw = &o->waits;
    while (*pw) {
        ta_gwait *w = *pw;
        bool done = false;
        if (w->kind == W_ALL) {
            if (settled(o)) {
                zval results, errors;
                outcomes(o, &results, &errors, o->is_set);
                if (zend_hash_num_elements(Z_ARRVAL(errors)) && !w->ignore_errors) {
                    zend_object *c = composite_of(&errors);
                    ta_fstate_complete(w->st, NULL, c);
                    OBJ_RELEASE(c);
                } else {
                    ta_fstate_complete(w->st, &results, NULL);
                }
                zval_ptr_dtor(&results);
                zval_ptr_dtor(&errors);
                done = true;
            }
        } else {
            ta_task *t = first_done(o, w->kind == W_ANY);
            if (t) {
                ta_fstate_complete(w->st, &t->result, t->error);
                if (o->is_set) t->state = T_GONE;
                done = true;
            } else if (w->kind == W_ANY && settled(o)) {
                zval errors;
                outcomes(o, NULL, &errors, false);
                zend_object *c = composite_of(&errors);
                ta_fstate_complete(w->st, NULL, c);
                OBJ_RELEASE(c);
                zval_ptr_dtor(&errors);
                done = true;
            } else if (w->kind == W_NEXT && settled(o) && o->closed) {
                zend_object *ex = ta_async_new_exception(ta_ce_async_exception, 0, "No more tasks in the TaskSet");
                ta_fstate_complete(w->st, NULL, ex);
                OBJ_RELEASE(ex);
                done = true;
            }
        }
        if (done) { *pw = w->next; ta_fstate_release(w->st); efree(w); }
        else pw = &w->next;
    }
}

/* The finally() callbacks, once it is closed and settled: in a coroutine
 * of their own, after what is queued (php-async), writing to `request`
 * (the one whose task ended last, or the caller's). */
static void run_finally(ta_group_obj *o, zend_object *request)
{
    if (!o->finally || !o->closed || !settled(o)) return;
    HashTable *ht = o->finally;
    o->finally = NULL;
    zval self;
    ZVAL_OBJ(&self, &o->std);
    ta_finally_spawn(ht, &self, o->scope, request, false);
}

static zend_object *cur_request(void)
{
    ta_sched *s = ta_sched_current;
    return s && s->current ? s->current->scope : NULL;
}

static void start_queued(ta_group_obj *o);

static void task_done(ta_coro *co, zend_object *uncaught)
{
    ta_task *t = co->done_data;
    co->done_data = NULL;
    ta_group_obj *o = t->group;
    t->state = T_DONE;
    t->seq = ++o->done_seq;
    if (uncaught) {
        /* the group keeps it: nobody else is to report it */
        t->error = uncaught;
        co->uncaught = NULL;
    } else {
        ZVAL_COPY(&t->result, ta_coro_result(co));
    }
    t->next_done = NULL;
    if (o->done_tail) o->done_tail->next_done = t; else o->done_head = t;
    o->done_tail = t;
    o->running--;
    start_queued(o);
    resolve_waits(o);
    wake(o);
    run_finally(o, co->scope);
    OBJ_RELEASE(&o->std);       /* each running task held the group */
}

static bool start_task(ta_group_obj *o, ta_task *t)
{
    ta_coro *co = ta_scope_spawn(o->scope, &t->callable, t->argc, t->args, task_done, t);
    if (!co) return false;
    t->state = T_RUNNING;
    o->running++;
    GC_ADDREF(&o->std);
    return true;
}

static void start_queued(ta_group_obj *o)
{
    if (!o->queued || o->cancelled) return;
    zval *zv;
    ZEND_HASH_FOREACH_VAL(&o->tasks, zv) {
        if (o->concurrency && o->running >= (zend_ulong) o->concurrency) break;
        ta_task *t = Z_PTR_P(zv);
        if (t->state != T_QUEUED) continue;
        o->queued--;
        if (!start_task(o, t)) {
            zend_object *ex = EG(exception);
            if (ex) { t->error = ex; GC_ADDREF(ex); zend_clear_exception(); }
            t->state = T_DONE;
        }
    } ZEND_HASH_FOREACH_END();
}

/* ---- methods ------------------------------------------------------------------ */

ZEND_METHOD(Async_TaskGroup, __construct)
{
    zend_long concurrency = 0, queue_limit = -1;
    bool concurrency_null = true, queue_null = true;
    zend_object *parent = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 3)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG_OR_NULL(concurrency, concurrency_null)
        Z_PARAM_LONG_OR_NULL(queue_limit, queue_null)
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(parent, ta_ce_scope)
    ZEND_PARSE_PARAMETERS_END();
    ta_group_obj *o = GROUP_THIS();
    if (o->constructed) { zend_throw_error(NULL, "%s object is already constructed", ZSTR_VAL(o->std.ce->name)); RETURN_THROWS(); }
    /* php-async's words; a concurrency of 0 (or null) is no limit */
    if (!concurrency_null && (concurrency < 0 || concurrency > UINT32_MAX)) {
        zend_argument_value_error(1, "must be between 0 and %u", UINT32_MAX);
        RETURN_THROWS();
    }
    if (!queue_null && (queue_limit < 0 || queue_limit > UINT32_MAX)) {
        zend_argument_value_error(2, "must be between 0 and %u", UINT32_MAX);
        RETURN_THROWS();
    }
    o->scope = ta_scope_child(parent);
    if (!o->scope) { zend_throw_error(NULL, "%s needs a TrueAsync worker thread", ZSTR_VAL(o->std.ce->name)); RETURN_THROWS(); }
    o->constructed = true;
    o->concurrency = concurrency_null ? 0 : concurrency;
    o->queue_limit = !o->concurrency ? 0 : queue_null ? 2 * o->concurrency : queue_limit;
}

static ta_group_obj *group_of(zval *this_zv)
{
    ta_group_obj *o = GROUP(Z_OBJ_P(this_zv));
    if (!o->constructed) zend_throw_error(NULL, "This %s was not constructed", ZSTR_VAL(o->std.ce->name));
    return o->constructed ? o : NULL;
}
#define GROUP_OR_THROW(o) ta_group_obj *o = group_of(ZEND_THIS); if (!o) RETURN_THROWS()

/* Backpressure: while the queue is full the spawning coroutine waits. */
static zend_result wait_for_room(ta_group_obj *o)
{
    ta_coro *me = ta_coro_current();
    while (o->concurrency && o->queue_limit && o->running >= (zend_ulong) o->concurrency
           && o->queued >= (zend_ulong) o->queue_limit && me && !o->cancelled) {
        GC_ADDREF(&o->std);
        ta_aw_add(&o->waiters, me);
        zend_result rc = ta_coro_wait(NULL, NULL);
        ta_aw_remove(&o->waiters, me);
        OBJ_RELEASE(&o->std);
        if (rc == FAILURE) return FAILURE;
    }
    return SUCCESS;
}

static void add_task(INTERNAL_FUNCTION_PARAMETERS, bool with_key)
{
    zval *key = NULL, *callable, *args = NULL;
    uint32_t argc = 0;
    if (with_key) {
        ZEND_PARSE_PARAMETERS_START(2, -1)
            Z_PARAM_ZVAL(key)
            Z_PARAM_ZVAL(callable)
            Z_PARAM_VARIADIC('*', args, argc)
        ZEND_PARSE_PARAMETERS_END();
        if (Z_TYPE_P(key) != IS_STRING && Z_TYPE_P(key) != IS_LONG) {
            zend_argument_type_error(1, "must be of type string|int, %s given", zend_zval_type_name(key));
            RETURN_THROWS();
        }
    } else {
        ZEND_PARSE_PARAMETERS_START(1, -1)
            Z_PARAM_ZVAL(callable)
            Z_PARAM_VARIADIC('*', args, argc)
        ZEND_PARSE_PARAMETERS_END();
    }
    if (!zend_is_callable(callable, 0, NULL)) { zend_argument_type_error(with_key ? 2 : 1, "must be a valid callback"); RETURN_THROWS(); }
    GROUP_OR_THROW(o);
    const char *what = ZSTR_VAL(o->std.ce->name) + strlen("Async\\");
    if (o->closed || o->cancelled) {
        zend_throw_exception_ex(ta_ce_async_exception, 0, "Cannot spawn tasks on a closed %s", what);
        RETURN_THROWS();
    }
    zval k;
    if (key) ZVAL_COPY(&k, key);
    else {
        while (zend_hash_index_exists(&o->tasks, o->next_key)) o->next_key++;
        ZVAL_LONG(&k, o->next_key++);
    }
    if (Z_TYPE(k) == IS_STRING ? zend_symtable_exists(&o->tasks, Z_STR(k)) : zend_hash_index_exists(&o->tasks, Z_LVAL(k))) {
        if (Z_TYPE(k) == IS_STRING) zend_throw_exception_ex(ta_ce_async_exception, 0, "Duplicate key \"%s\" in %s", Z_STRVAL(k), what);
        else zend_throw_exception_ex(ta_ce_async_exception, 0, "Duplicate key " ZEND_LONG_FMT " in %s", Z_LVAL(k), what);
        zval_ptr_dtor(&k);
        RETURN_THROWS();
    }
    if (wait_for_room(o) == FAILURE) { zval_ptr_dtor(&k); RETURN_THROWS(); }
    ta_task *t = ecalloc(1, sizeof *t);
    t->group = o;
    ZVAL_COPY_VALUE(&t->key, &k);
    ZVAL_COPY(&t->callable, callable);
    ZVAL_NULL(&t->result);
    t->argc = argc;
    if (argc) {
        t->args = safe_emalloc(argc, sizeof(zval), 0);
        for (uint32_t i = 0; i < argc; i++) ZVAL_COPY(&t->args[i], &args[i]);
    }
    zval p;
    ZVAL_PTR(&p, t);
    if (Z_TYPE(k) == IS_STRING) zend_symtable_update(&o->tasks, Z_STR(k), &p);
    else zend_hash_index_update(&o->tasks, Z_LVAL(k), &p);
    if (o->concurrency && o->running >= (zend_ulong) o->concurrency) { t->state = T_QUEUED; o->queued++; return; }
    if (!start_task(o, t)) {
        if (Z_TYPE(k) == IS_STRING) zend_symtable_del(&o->tasks, Z_STR(k)); else zend_hash_index_del(&o->tasks, Z_LVAL(k));
        RETURN_THROWS();
    }
}

ZEND_METHOD(Async_TaskGroup, spawn) { add_task(INTERNAL_FUNCTION_PARAM_PASSTHRU, false); }
ZEND_METHOD(Async_TaskGroup, spawnWithKey) { add_task(INTERNAL_FUNCTION_PARAM_PASSTHRU, true); }

static void hand_future(ta_group_obj *o, int kind, bool ignore_errors, zval *return_value)
{
    ta_gwait *w = ecalloc(1, sizeof *w);
    w->kind = kind;
    w->ignore_errors = ignore_errors;
    RETVAL_OBJ(ta_future_pending(&w->st));
    w->next = o->waits;
    o->waits = w;
    resolve_waits(o);
}

/* php-async's words: "Cannot race on an empty TaskGroup", "Cannot call
 * any() on an empty TaskGroup" */
static bool nonempty(ta_group_obj *o, const char *what)
{
    if (zend_hash_num_elements(&o->tasks)) return true;
    zend_throw_exception_ex(ta_ce_async_exception, 0, "Cannot %s an empty %s", what, ZSTR_VAL(o->std.ce->name) + strlen("Async\\"));
    return false;
}

ZEND_METHOD(Async_TaskGroup, all)
{
    bool ignore = false;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_BOOL(ignore)
    ZEND_PARSE_PARAMETERS_END();
    GROUP_OR_THROW(o);
    hand_future(o, W_ALL, ignore, return_value);
}

ZEND_METHOD(Async_TaskGroup, race) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); if (!nonempty(o, "race on")) RETURN_THROWS(); hand_future(o, W_RACE, false, return_value); }
ZEND_METHOD(Async_TaskGroup, any) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); if (!nonempty(o, "call any() on")) RETURN_THROWS(); hand_future(o, W_ANY, false, return_value); }
ZEND_METHOD(Async_TaskSet, joinNext) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); hand_future(o, W_NEXT, false, return_value); }
ZEND_METHOD(Async_TaskSet, joinAny) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); if (!nonempty(o, "call joinAny() on")) RETURN_THROWS(); hand_future(o, W_ANY, false, return_value); }

ZEND_METHOD(Async_TaskGroup, getResults) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); outcomes(o, return_value, NULL, false); }
ZEND_METHOD(Async_TaskGroup, getErrors) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); outcomes(o, NULL, return_value, false); }
/* Errors are never reported by the group itself: nothing to mark. */
ZEND_METHOD(Async_TaskGroup, suppressErrors) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); (void) o; }

/* cancel(): closed, queued tasks never start, running ones are
 * cancelled. */
static void stop_all(ta_group_obj *o, zend_object *error, const char *why)
{
    o->closed = o->cancelled = true;
    zval *zv;
    ZEND_HASH_FOREACH_VAL(&o->tasks, zv) {
        ta_task *t = Z_PTR_P(zv);
        if (t->state == T_QUEUED) t->state = T_GONE;
    } ZEND_HASH_FOREACH_END();
    o->queued = 0;
    ta_scope_cancel(o->scope, error, why);
}

ZEND_METHOD(Async_TaskGroup, cancel)
{
    zend_object *error = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(error, ta_ce_async_cancellation)
    ZEND_PARSE_PARAMETERS_END();
    GROUP_OR_THROW(o);
    stop_all(o, error, "The task group was cancelled");
    resolve_waits(o);
    wake(o);
    run_finally(o, cur_request());
}

ZEND_METHOD(Async_TaskGroup, close)
{
    ZEND_PARSE_PARAMETERS_NONE();
    GROUP_OR_THROW(o);
    o->closed = true;
    resolve_waits(o);
    wake(o);
    run_finally(o, cur_request());
}

/* As php-async: its scope is cancelled, not the group. The running tasks
 * are cancelled; the group stays open, its queued tasks start as slots
 * free up and later spawns run. */
ZEND_METHOD(Async_TaskGroup, dispose)
{
    ZEND_PARSE_PARAMETERS_NONE();
    GROUP_OR_THROW(o);
    ta_scope_cancel_open(o->scope, "Scope is being disposed due to TaskGroup disposal");
}

ZEND_METHOD(Async_TaskGroup, isFinished) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); RETURN_BOOL(settled(o)); }
ZEND_METHOD(Async_TaskGroup, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); GROUP_OR_THROW(o); RETURN_BOOL(o->closed); }

/* TaskGroup: every task ever added; TaskSet: those not handed out yet. */
ZEND_METHOD(Async_TaskGroup, count)
{
    ZEND_PARSE_PARAMETERS_NONE();
    GROUP_OR_THROW(o);
    zend_long n = 0;
    zval *zv;
    ZEND_HASH_FOREACH_VAL(&o->tasks, zv) { if (!o->is_set || ((ta_task *) Z_PTR_P(zv))->state != T_GONE) n++; } ZEND_HASH_FOREACH_END();
    RETURN_LONG(n);
}

/* Waits until the group settled (as a coroutine, or driving the loop). */
static zend_result wait_change(ta_group_obj *o)
{
    ta_coro *co = ta_coro_current();
    if (!co) { zend_throw_error(NULL, "%s can only be awaited inside a coroutine", ZSTR_VAL(o->std.ce->name)); return FAILURE; }
    GC_ADDREF(&o->std);
    ta_aw_add(&o->waiters, co);
    zend_result rc = ta_coro_wait(NULL, NULL);
    ta_aw_remove(&o->waiters, co);
    OBJ_RELEASE(&o->std);
    return rc;
}

ZEND_METHOD(Async_TaskGroup, awaitCompletion)
{
    ZEND_PARSE_PARAMETERS_NONE();
    GROUP_OR_THROW(o);
    if (!o->closed) {
        zend_throw_exception_ex(ta_ce_async_exception, 0, "%s must be closed before calling awaitCompletion()", ZSTR_VAL(o->std.ce->name) + strlen("Async\\"));
        RETURN_THROWS();
    }
    while (!settled(o)) if (wait_change(o) == FAILURE) RETURN_THROWS();
}

ZEND_METHOD(Async_TaskGroup, finally)
{
    zval *cb;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(cb, zend_ce_closure)
    ZEND_PARSE_PARAMETERS_END();
    GROUP_OR_THROW(o);
    if (!o->finally) { ALLOC_HASHTABLE(o->finally); zend_hash_init(o->finally, 2, NULL, ZVAL_PTR_DTOR, 0); }
    Z_ADDREF_P(cb);
    zend_hash_next_index_insert(o->finally, cb);
    if (!o->closed || !settled(o)) return;
    /* it is over: the callback runs now (php-async) */
    HashTable *ht = o->finally;
    o->finally = NULL;
    ta_finally_call_all(ht, ZEND_THIS, o->scope, "a TaskGroup::finally() callback");
}

/* ---- foreach: key => [result, error] as they complete ---------------------------- */

static bool group_pull(zend_object *obj, zval *value, zval *key)
{
    ta_group_obj *o = GROUP(obj);
    for (;;) {
        ta_task *t = o->done_head;
        if (t) {
            o->done_head = t->next_done;
            if (!o->done_head) o->done_tail = NULL;
            if (t->state != T_DONE) continue;   /* a TaskSet join took it */
            ZVAL_COPY(key, &t->key);
            array_init_size(value, 2);
            if (t->error) { add_next_index_null(value); GC_ADDREF(t->error); add_next_index_object(value, t->error); }
            else { Z_TRY_ADDREF(t->result); add_next_index_zval(value, &t->result); add_next_index_null(value); }
            if (o->is_set) t->state = T_GONE;
            return true;
        }
        if (o->closed && settled(o)) return false;
        if (wait_change(o) == FAILURE) return false;
    }
}

static zend_object_iterator *group_get_iterator(zend_class_entry *ce, zval *object, int by_ref)
{
    (void) ce;
    return ta_pull_iterator(object, by_ref, group_pull);
}

ZEND_METHOD(Async_TaskGroup, getIterator)
{
    ZEND_PARSE_PARAMETERS_NONE();
    zend_create_internal_iterator_zval(return_value, ZEND_THIS);
}

/* ---- registration ------------------------------------------------------------------ */

void ta_taskgroup_register(void)
{
    ta_ce_task_group = register_class_Async_TaskGroup(ta_ce_awaitable, zend_ce_countable, zend_ce_aggregate);
    ta_ce_task_set = register_class_Async_TaskSet(ta_ce_awaitable, zend_ce_countable, zend_ce_aggregate);
    /* one object layout, most methods shared (the stub's @implementation-alias) */
    ta_class_set_handlers(ta_ce_task_group, group_create, &h_group, XtOffsetOf(ta_group_obj, std), group_free, false);
    ta_class_set_handlers(ta_ce_task_set, group_create, &h_group, XtOffsetOf(ta_group_obj, std), group_free, false);
    h_group.get_gc = group_get_gc;
    ta_ce_task_group->get_iterator = group_get_iterator;
    ta_ce_task_set->get_iterator = group_get_iterator;
}
