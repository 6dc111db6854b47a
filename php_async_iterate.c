/* Async\iterate(), in php-async's model: the elements are pulled by a set
 * of worker coroutines in a scope of the iteration's own, each calling the
 * callback for one element after the other. The first worker starts with
 * the call; each worker, once it has started, has one more spawned when it
 * first yields (a microtask), up to $concurrency (0: no limit). While one
 * worker moves a Traversable (which may suspend), no worker is spawned and
 * the others that find it moving stop. */
#include "php_async_objects.h"
#include "php_async_scope.h"
#include "reactor_apr.h"
#include <zend_closures.h>

enum { IT_INIT, IT_MOVING, IT_STARTED, IT_FINISHED };

typedef struct {
    uint32_t refs;              /* the caller, each worker, a queued microtask */
    int state;
    uint32_t workers;           /* spawned and not finished */
    uint32_t concurrency;       /* 0: no limit */
    bool missed;                /* a spawn was due while the iterator moved */
    bool rewound;
    zend_long index;            /* elements of a Traversable taken */
    ta_micro spawn;
    zend_object *scope;         /* the workers' (held) */
    zend_object *request;       /* whose output the callbacks write to (held) */
    zval callback, worker;      /* the user's callback (or UNDEF); the workers' entry */
    ta_iter_handler handler;    /* a C caller's, instead of a callback */
    ta_iter_finish finish;
    void *data;                 /* theirs */
    HashTable *ht;              /* an array (held), or */
    HashPosition pos;
    zend_object_iterator *oi;   /* a Traversable's iterator */
    zend_object *error;         /* the first exception (held) */
    ta_coro *waiter;            /* the caller, until the workers are done */
} iter_t;

static void iter_release(iter_t *it)
{
    if (--it->refs) return;
    if (it->ht) zend_array_release(it->ht);
    if (it->oi) zend_iterator_dtor(it->oi);
    if (it->error) OBJ_RELEASE(it->error);
    if (it->request) OBJ_RELEASE(it->request);
    OBJ_RELEASE(it->scope);
    zval_ptr_dtor(&it->callback);
    zval_ptr_dtor(&it->worker);
    efree(it);
}

static void worker_done(ta_coro *co, zend_object *uncaught)
{
    iter_t *it = co->done_data;
    co->done_data = NULL;
    /* one cancelled before it started ends with that; it is nobody's */
    if (uncaught) { OBJ_RELEASE(uncaught); co->uncaught = NULL; }
    if (--it->workers == 0) {
        it->state = IT_FINISHED;
        if (it->waiter) ta_coro_wake(it->waiter);
        if (it->finish) it->finish(it->data, it->error);
    }
    iter_release(it);
}

static bool spawn_worker(iter_t *it)
{
    ta_sched *s = ta_sched_current;
    if (!s || ta_scope_is_cancelled(it->scope)) return false;
    ta_coro *co = ta_sched_spawn(s, &it->worker, 0, NULL, it->request, worker_done);
    if (!co) { zend_clear_exception(); return false; }
    ta_scope_adopt_spawned(NULL, co, it->scope);
    co->done_data = it;
    it->refs++;
    it->workers++;
    return true;
}

/* The microtask: one more worker, if the iteration still wants one. */
static void spawn_more(ta_micro *m, bool run)
{
    iter_t *it = (iter_t *) ((char *) m - offsetof(iter_t, spawn));
    if (run && it->state == IT_MOVING) it->missed = true;
    else if (run && it->state != IT_FINISHED && (!it->concurrency || it->workers < it->concurrency))
        spawn_worker(it);
    iter_release(it);
}

static void defer_spawn(iter_t *it)
{
    if (it->spawn.queued) return;
    it->refs++;
    ta_sched_defer(ta_sched_current, &it->spawn);
}

/* The iteration ends with `ex` (taken): the first one is kept, and what
 * still runs in its scope is cancelled (php-async). */
static void fail(iter_t *it, zend_object *ex)
{
    it->state = IT_FINISHED;
    if (it->error) { OBJ_RELEASE(ex); return; }
    it->error = ex;
    if (!ta_scope_is_cancelled(it->scope))
        ta_scope_cancel(it->scope, NULL, "Cancellation of the iterator due to an exception");
}

static bool take_exception(iter_t *it)
{
    if (!EG(exception)) return false;
    zend_object *ex = EG(exception);
    GC_ADDREF(ex);
    zend_clear_exception();
    fail(it, ex);
    return true;
}

/* A Traversable's iterator moved (it may suspend): no worker is spawned
 * meanwhile; one that was due is spawned after. */
static void moved(iter_t *it)
{
    if (it->state == IT_MOVING) it->state = IT_STARTED;
    if (it->missed && it->state != IT_FINISHED) { it->missed = false; defer_spawn(it); }
}

/* The next element of a Traversable into value/key; false at its end. */
static bool next_object(iter_t *it, zval *value, zval *key)
{
    zend_object_iterator *oi = it->oi;
    it->state = IT_MOVING;
    if (!it->rewound) { it->rewound = true; if (oi->funcs->rewind) oi->funcs->rewind(oi); }
    bool ok = !EG(exception) && oi->funcs->valid(oi) == SUCCESS && !EG(exception);
    zval *v = ok ? oi->funcs->get_current_data(oi) : NULL;
    if (v && !EG(exception)) {
        ZVAL_COPY(value, v);
        ZVAL_DEREF(value);
        if (oi->funcs->get_current_key) oi->funcs->get_current_key(oi, key);
        else ZVAL_LONG(key, it->index);
        it->index++;
        if (!EG(exception)) oi->funcs->move_forward(oi);
    }
    moved(it);
    return v != NULL;
}

/* The next element into value/key (references taken); false at the end. */
static bool next_element(iter_t *it, zval *value, zval *key)
{
    ZVAL_UNDEF(value);
    ZVAL_NULL(key);
    if (it->oi) return next_object(it, value, key);
    zval *v;
    while ((v = zend_hash_get_current_data_ex(it->ht, &it->pos))) {
        if (Z_TYPE_P(v) == IS_INDIRECT) v = Z_INDIRECT_P(v);
        if (Z_TYPE_P(v) != IS_UNDEF) break;
        zend_hash_move_forward_ex(it->ht, &it->pos);
    }
    if (!v) return false;
    ZVAL_COPY_DEREF(value, v);
    zend_hash_get_current_key_zval_ex(it->ht, key, &it->pos);
    zend_hash_move_forward_ex(it->ht, &it->pos);
    return true;
}

/* A worker: callback(value, key) for one element after the other, until
 * the elements run out, a callback says false, or something fails. */
static void worker_run(iter_t *it)
{
    defer_spawn(it);
    while (it->state != IT_FINISHED && it->state != IT_MOVING) {
        zval args[2], rv;
        bool got = next_element(it, &args[0], &args[1]);
        /* another worker may have ended it while this one moved */
        if (take_exception(it) || !got || it->state == IT_FINISHED) {
            zval_ptr_dtor(&args[0]);
            zval_ptr_dtor(&args[1]);
            it->state = IT_FINISHED;
            break;
        }
        ZVAL_UNDEF(&rv);
        if (it->handler) it->handler(it->data, &args[0], &args[1]);
        else call_user_function(NULL, NULL, &it->callback, &rv, 2, args);
        zval_ptr_dtor(&args[0]);
        zval_ptr_dtor(&args[1]);
        if (Z_TYPE(rv) == IS_FALSE) it->state = IT_FINISHED;
        zval_ptr_dtor(&rv);
        take_exception(it);
    }
}

/* {{{ Coroutine::iterationWorker(): void — the body of iterate()'s workers */
ZEND_METHOD(Async_Coroutine, iterationWorker)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_coro *co = ta_coro_current();
    if (!co || co->on_done != worker_done || !co->done_data) {
        zend_throw_error(NULL, "Async\\Coroutine::iterationWorker() is internal");
        RETURN_THROWS();
    }
    worker_run(co->done_data);
}

/* Waits until the workers are done (as a coroutine, or driving the loop
 * outside one). */
static zend_result wait_workers(iter_t *it)
{
    ta_coro *co = ta_coro_current();
    ta_sched *s = ta_sched_current;
    while (it->workers) {
        if (co) {
            it->waiter = co;
            zend_result rc = ta_coro_wait(NULL, NULL);
            it->waiter = NULL;
            if (rc == FAILURE) return FAILURE;
            continue;
        }
        ta_sched_run_ready(s);
        ta_sched_idle();
        if (EG(exception)) return FAILURE;
        if (!it->workers) break;
        if (!ZEND_ASYNC_REACTOR_EXECUTE(ta_sched_has_ready(s)) && !ta_sched_has_ready(s)) {
            zend_throw_exception(ta_ce_deadlock_error, "Deadlock: the iteration's callbacks cannot finish", 0);
            return FAILURE;
        }
    }
    return SUCCESS;
}

/* The iteration state for `iterable`; NULL with an exception (a
 * Traversable whose iterator could not be had). `safe`: its scope lets
 * what runs there go on when it goes. */
static iter_t *iter_new(zval *iterable, zend_long concurrency, bool safe)
{
    zend_object_iterator *oi = NULL;
    if (Z_TYPE_P(iterable) == IS_OBJECT) {
        oi = Z_OBJCE_P(iterable)->get_iterator(Z_OBJCE_P(iterable), iterable, 0);
        if (!oi && !EG(exception)) zend_throw_exception(ta_ce_async_exception, "Failed to create iterator", 0);
        if (!oi || EG(exception)) { if (oi) zend_iterator_dtor(oi); return NULL; }
    }
    iter_t *it = ecalloc(1, sizeof *it);
    it->refs = 1;
    it->concurrency = (uint32_t) concurrency;
    it->spawn.run = spawn_more;
    it->oi = oi;
    if (!oi) {
        it->ht = Z_ARRVAL_P(iterable);
        GC_TRY_ADDREF(it->ht);
        zend_hash_internal_pointer_reset_ex(it->ht, &it->pos);
    }
    ZVAL_UNDEF(&it->callback);
    zend_function *f = zend_hash_str_find_ptr(&ta_ce_coroutine->function_table, ZEND_STRL("iterationworker"));
    zend_create_fake_closure(&it->worker, f, ta_ce_coroutine, ta_ce_coroutine, NULL);
    it->scope = ta_scope_child(NULL);
    ta_scope_set_safe(it->scope, safe);
    ta_sched *s = ta_sched_current;
    it->request = s->current ? s->current->scope : NULL;
    if (it->request) GC_ADDREF(it->request);
    return it;
}

/* After the workers: what the callbacks spawned is cancelled (or not) and
 * awaited; the first exception wins, what came after is its previous. */
static zend_object *iter_finish(iter_t *it, bool cancel_pending, zend_object *pending)
{
    if (!pending) {
        if (cancel_pending && !ta_scope_is_cancelled(it->scope))
            ta_scope_cancel(it->scope, NULL, "Cancellation of pending coroutines after iterator completion");
        if (!ta_scope_await_finished(it->scope) && EG(exception)) {
            pending = EG(exception);
            GC_ADDREF(pending);
            zend_clear_exception();
        }
    } else {
        ta_scope_cancel(it->scope, NULL, "Cancellation of pending coroutines after iterator completion");
    }
    zend_object *ex = it->error;
    it->error = NULL;
    if (!ex) return pending;
    if (pending && pending != ex) zend_exception_set_previous(ex, pending);
    else if (pending) OBJ_RELEASE(pending);
    return ex;
}

/* {{{ Async\iterate(iterable $iterable, callable $callback, int $concurrency = 0, bool $cancelPending = true): void */
ZEND_FUNCTION(Async_iterate)
{
    zval *iterable, *callback;
    zend_long concurrency = 0;
    bool cancel_pending = true;
    ZEND_PARSE_PARAMETERS_START(2, 4)
        Z_PARAM_ITERABLE(iterable)
        Z_PARAM_ZVAL(callback)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(concurrency)
        Z_PARAM_BOOL(cancel_pending)
    ZEND_PARSE_PARAMETERS_END();
    if (!zend_is_callable(callback, 0, NULL)) { zend_argument_type_error(2, "must be a valid callback"); RETURN_THROWS(); }
    if (concurrency < 0 || concurrency > UINT32_MAX) {
        zend_argument_value_error(3, "must be between 0 and %u", UINT32_MAX);
        RETURN_THROWS();
    }
    if (!ta_sched_current) { zend_throw_error(NULL, "Async\\iterate() needs a TrueAsync worker thread"); RETURN_THROWS(); }
    /* a scope of its own, not safe: what runs there is cancelled with it */
    iter_t *it = iter_new(iterable, concurrency, false);
    if (!it) RETURN_THROWS();
    ZVAL_COPY(&it->callback, callback);
    zend_object *pending = NULL;
    if (!spawn_worker(it) || wait_workers(it) == FAILURE) {
        pending = EG(exception);
        if (pending) { GC_ADDREF(pending); zend_clear_exception(); }
    }
    pending = iter_finish(it, cancel_pending, pending);
    iter_release(it);
    if (pending) zend_throw_exception_object(&(zval){ .value.obj = pending, .u1.type_info = IS_OBJECT_EX });
}

bool ta_iterate_start(zval *iterable, uint32_t concurrency, ta_iter_handler handler, ta_iter_finish finish, void *data)
{
    if (!ta_sched_current) { zend_throw_error(NULL, "No TrueAsync worker thread"); return false; }
    iter_t *it = iter_new(iterable, concurrency, true);
    if (!it) return false;
    it->handler = handler;
    it->finish = finish;
    it->data = data;
    bool ok = spawn_worker(it);
    iter_release(it);
    if (!ok && !EG(exception)) zend_throw_error(NULL, "The iteration could not start");
    return ok;
}
