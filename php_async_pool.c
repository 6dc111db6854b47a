/* Async\Pool, as php-async defines it: resources made by a factory up to
 * `max`, handed out by acquire() (waiting, as a coroutine, while all are
 * out), checked before they are handed out and when they come back, with a
 * circuit breaker (CircuitBreaker, CircuitBreakerStrategy) that turns the
 * pool away (ServiceUnavailableException) while its service is down. */
#include "php_async_objects.h"
#include "php_async_scope.h"
#include "php_async_register.h"
#include <zend_enum.h>
#include <zend_interfaces.h>
#include <time.h>
#include "stubs/php_async_pool_arginfo.h"

zend_class_entry *ta_ce_pool, *ta_ce_pool_exception, *ta_ce_circuit_breaker, *ta_ce_circuit_strategy,
                 *ta_ce_circuit_state;
static zend_object_handlers h_pool;

enum { CB_ACTIVE, CB_INACTIVE, CB_RECOVERING };
static const char *const state_names[] = { "ACTIVE", "INACTIVE", "RECOVERING" };

typedef struct {
    zval value;
    uint64_t since_ms;          /* when it went idle (or was last checked) */
} pool_item;

typedef struct {
    zval factory, destructor, healthcheck, before_acquire, before_release, strategy;
    zend_long min, max, hc_interval;
    pool_item *idle;            /* a ring: the longest idle is handed out first, as php-async does */
    uint32_t idle_head, n_idle, cap_idle;
    zend_long active;
    bool constructed, closed;
    int state;
    struct pool_waiter *wq_head, *wq_tail;   /* acquire() callers waiting, first come first served */
    zend_object std;
} ta_pool_obj;

/* A coroutine waiting in acquire() (on its stack). */
typedef struct pool_waiter {
    ta_coro *co;
    zval value;                 /* handed to it by release() */
    bool done, queued;
    struct pool_waiter *next;
} pool_waiter;

#define POOL(o) OBJ_OF(ta_pool_obj, o)

static zend_object *pool_create(zend_class_entry *ce)
{
    ta_pool_obj *o = ta_object_new(sizeof *o, ce, &h_pool);
    ZVAL_UNDEF(&o->factory); ZVAL_UNDEF(&o->destructor); ZVAL_UNDEF(&o->healthcheck);
    ZVAL_UNDEF(&o->before_acquire); ZVAL_UNDEF(&o->before_release); ZVAL_UNDEF(&o->strategy);
    return &o->std;
}

/* The i-th idle resource, oldest first. */
static pool_item *idle_at(ta_pool_obj *o, uint32_t i)
{
    return &o->idle[(o->idle_head + i) % o->cap_idle];
}

/* Appends `r` (taken) as the newest idle resource. */
static void idle_push(ta_pool_obj *o, zval *r)
{
    if (o->n_idle == o->cap_idle) {
        uint32_t cap = o->cap_idle ? o->cap_idle * 2 : 4;
        pool_item *ring = emalloc(cap * sizeof *ring);
        for (uint32_t i = 0; i < o->n_idle; i++) ring[i] = *idle_at(o, i);
        if (o->idle) efree(o->idle);
        o->idle = ring;
        o->cap_idle = cap;
        o->idle_head = 0;
    }
    pool_item *it = &o->idle[(o->idle_head + o->n_idle++) % o->cap_idle];
    ZVAL_COPY_VALUE(&it->value, r);
    it->since_ms = ta_now_ms();
}

/* Takes the oldest idle resource out (n_idle > 0). */
static pool_item idle_shift(ta_pool_obj *o)
{
    pool_item it = o->idle[o->idle_head];
    o->idle_head = (o->idle_head + 1) % o->cap_idle;
    o->n_idle--;
    return it;
}

static void pool_free(zend_object *obj)
{
    ta_pool_obj *o = POOL(obj);
    for (uint32_t i = 0; i < o->n_idle; i++) zval_ptr_dtor(&idle_at(o, i)->value);
    if (o->idle) efree(o->idle);
    zval_ptr_dtor(&o->factory); zval_ptr_dtor(&o->destructor); zval_ptr_dtor(&o->healthcheck);
    zval_ptr_dtor(&o->before_acquire); zval_ptr_dtor(&o->before_release); zval_ptr_dtor(&o->strategy);
    zend_object_std_dtor(obj);
}

static HashTable *pool_get_gc(zend_object *obj, zval **table, int *n)
{
    ta_pool_obj *o = POOL(obj);
    zend_get_gc_buffer *buf = zend_get_gc_buffer_create();
    zend_get_gc_buffer_add_zval(buf, &o->factory);
    zend_get_gc_buffer_add_zval(buf, &o->destructor);
    zend_get_gc_buffer_add_zval(buf, &o->healthcheck);
    zend_get_gc_buffer_add_zval(buf, &o->before_acquire);
    zend_get_gc_buffer_add_zval(buf, &o->before_release);
    zend_get_gc_buffer_add_zval(buf, &o->strategy);
    for (uint32_t i = 0; i < o->n_idle; i++) zend_get_gc_buffer_add_zval(buf, &idle_at(o, i)->value);
    zend_get_gc_buffer_use(buf, table, n);
    return NULL;
}

static pool_waiter *wq_pop(ta_pool_obj *o)
{
    pool_waiter *w = o->wq_head;
    if (!w) return NULL;
    o->wq_head = w->next;
    if (!o->wq_head) o->wq_tail = NULL;
    w->queued = false;
    return w;
}

static void wq_push(ta_pool_obj *o, pool_waiter *w)
{
    w->next = NULL;
    w->queued = true;
    if (o->wq_tail) o->wq_tail->next = w; else o->wq_head = w;
    o->wq_tail = w;
}

static void wq_remove(ta_pool_obj *o, pool_waiter *w)
{
    if (!w->queued) return;
    pool_waiter *prev = NULL;
    for (pool_waiter *p = o->wq_head; p; prev = p, p = p->next) {
        if (p != w) continue;
        if (prev) prev->next = w->next; else o->wq_head = w->next;
        if (o->wq_tail == w) o->wq_tail = prev;
        break;
    }
    w->queued = false;
}

/* Something changed (closed, the circuit, a failed factory): every waiter
 * looks again. */
static void wake_all(ta_pool_obj *o)
{
    pool_waiter *w;
    while ((w = wq_pop(o))) ta_coro_wake(w->co);
}

/* cb(arg): its return value in rv (UNDEF with an exception). */
static void call1(zval *cb, zval *arg, zval *rv)
{
    ZVAL_UNDEF(rv);
    call_user_function(NULL, NULL, cb, rv, arg ? 1 : 0, arg);
}

/* A check callback said yes (none set: yes). An exception counts as no. */
static bool check(zval *cb, zval *resource)
{
    if (Z_ISUNDEF_P(cb)) return true;
    zval rv;
    call1(cb, resource, &rv);
    if (EG(exception)) { zend_clear_exception(); zval_ptr_dtor(&rv); return false; }
    bool ok = zend_is_true(&rv);
    zval_ptr_dtor(&rv);
    return ok;
}

static void destroy(ta_pool_obj *o, zval *resource)
{
    if (!Z_ISUNDEF(o->destructor)) {
        zval rv;
        call1(&o->destructor, resource, &rv);
        zval_ptr_dtor(&rv);
        if (EG(exception)) zend_clear_exception();      /* a failing destructor loses nothing more */
    }
    zval_ptr_dtor(resource);
}

static void report(ta_pool_obj *o, zend_object *error)
{
    if (Z_ISUNDEF(o->strategy)) return;
    zval self, rv, ex;
    ZVAL_OBJ(&self, &o->std);
    if (error) {
        ZVAL_OBJ(&ex, error);
        zend_call_method_with_2_params(Z_OBJ(o->strategy), Z_OBJCE(o->strategy), NULL, "reportfailure", &rv, &self, &ex);
    } else {
        zend_call_method_with_1_params(Z_OBJ(o->strategy), Z_OBJCE(o->strategy), NULL, "reportsuccess", &rv, &self);
    }
    zval_ptr_dtor(&rv);
}

/* The circuit lets this acquire through (a RECOVERING pool lets some by). */
static bool circuit_ok(ta_pool_obj *o)
{
    if (o->state != CB_INACTIVE) return true;
    if (!Z_ISUNDEF(o->strategy)) {
        zval rv;
        zend_call_method_with_0_params(Z_OBJ(o->strategy), Z_OBJCE(o->strategy), NULL, "shouldrecover", &rv);
        if (EG(exception)) return false;
        bool yes = zend_is_true(&rv);
        zval_ptr_dtor(&rv);
        if (yes) { o->state = CB_RECOVERING; return true; }
    }
    zend_throw_exception(ta_ce_service_unavailable, "Service is unavailable (circuit breaker is open)", 0);
    return false;
}

/* A resource back in the pool (takes `r`): straight to the first waiter,
 * else idle. */
static void give_back(ta_pool_obj *o, zval *r)
{
    pool_waiter *w = wq_pop(o);
    if (w) {
        ZVAL_COPY_VALUE(&w->value, r);
        w->done = true;
        o->active++;
        ta_coro_wake(w->co);
        return;
    }
    idle_push(o, r);
}

/* A resource for the caller: an idle one that passes its checks, or a
 * new one while there is room. 1: got it; 0: none now; -1: exception. */
static int take(ta_pool_obj *o, zval *out)
{
    while (o->n_idle) {
        pool_item it = idle_shift(o);
        bool stale = o->hc_interval && ta_now_ms() - it.since_ms >= (uint64_t) o->hc_interval;
        if ((stale && !check(&o->healthcheck, &it.value)) || !check(&o->before_acquire, &it.value)) {
            destroy(o, &it.value);
            continue;
        }
        ZVAL_COPY_VALUE(out, &it.value);
        o->active++;
        return 1;
    }
    if (o->active + (zend_long) o->n_idle >= o->max) return 0;
    o->active++;        /* the slot is ours while the factory runs (it may wait) */
    zval rv;
    call1(&o->factory, NULL, &rv);
    if (EG(exception)) {
        o->active--;
        zend_object *ex = EG(exception);
        GC_ADDREF(ex);
        zend_clear_exception();
        report(o, ex);
        if (!EG(exception)) zend_throw_exception_object(&(zval){ .value.obj = ex, .u1.type_info = IS_OBJECT_EX });
        else OBJ_RELEASE(ex);
        wake_all(o);
        return -1;
    }
    ZVAL_COPY_VALUE(out, &rv);
    return 1;
}

static ta_pool_obj *pool_of(zval *this_zv)
{
    ta_pool_obj *o = POOL(Z_OBJ_P(this_zv));
    if (!o->constructed) { zend_throw_exception(ta_ce_pool_exception, "Pool is not initialized", 0); return NULL; }
    return o;
}
#define POOL_OR_THROW(o) ta_pool_obj *o = pool_of(ZEND_THIS); if (!o) RETURN_THROWS()

static bool closed_check(ta_pool_obj *o)
{
    if (!o->closed) return true;
    zend_throw_exception(ta_ce_pool_exception, "Pool is closed", 0);
    return false;
}

ZEND_METHOD(Async_Pool, __construct)
{
    zval *factory, *destructor = NULL, *healthcheck = NULL, *before_acquire = NULL, *before_release = NULL;
    zend_long min = 0, max = 10, interval = 0;
    ZEND_PARSE_PARAMETERS_START(1, 8)
        Z_PARAM_ZVAL(factory)
        Z_PARAM_OPTIONAL
        Z_PARAM_ZVAL_OR_NULL(destructor)
        Z_PARAM_ZVAL_OR_NULL(healthcheck)
        Z_PARAM_ZVAL_OR_NULL(before_acquire)
        Z_PARAM_ZVAL_OR_NULL(before_release)
        Z_PARAM_LONG(min)
        Z_PARAM_LONG(max)
        Z_PARAM_LONG(interval)
    ZEND_PARSE_PARAMETERS_END();
    zval *cbs[] = { factory, destructor, healthcheck, before_acquire, before_release };
    for (int i = 0; i < 5; i++)
        if (cbs[i] && !zend_is_callable(cbs[i], 0, NULL)) {
            zend_argument_type_error(i + 1, i ? "must be a valid callback or null" : "must be a valid callback");
            RETURN_THROWS();
        }
    if (max < 1) { zend_argument_value_error(7, "must be greater than 0"); RETURN_THROWS(); }
    if (min < 0 || min > max) { zend_argument_value_error(6, "must be between 0 and $max"); RETURN_THROWS(); }
    if (interval < 0) { zend_argument_value_error(8, "must be greater than or equal to 0"); RETURN_THROWS(); }
    ta_pool_obj *o = POOL(Z_OBJ_P(ZEND_THIS));
    if (o->constructed) { zend_throw_error(NULL, "Async\\Pool object is already constructed"); RETURN_THROWS(); }
    o->constructed = true;
    ZVAL_COPY(&o->factory, factory);
    if (destructor) ZVAL_COPY(&o->destructor, destructor);
    if (healthcheck) ZVAL_COPY(&o->healthcheck, healthcheck);
    if (before_acquire) ZVAL_COPY(&o->before_acquire, before_acquire);
    if (before_release) ZVAL_COPY(&o->before_release, before_release);
    o->min = min;
    o->max = max;
    o->hc_interval = interval;
    /* the minimum is made now */
    for (zend_long i = 0; i < min; i++) {
        zval rv;
        call1(&o->factory, NULL, &rv);
        if (EG(exception)) RETURN_THROWS();
        idle_push(o, &rv);
    }
}

/* {{{ Pool::acquire(int $timeout = 0): mixed — waits while all are out ($timeout ms, 0: no limit) */
ZEND_METHOD(Async_Pool, acquire)
{
    zend_long timeout = 0;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(timeout)
    ZEND_PARSE_PARAMETERS_END();
    if (timeout < 0) { zend_argument_value_error(1, "must be greater than or equal to 0"); RETURN_THROWS(); }
    POOL_OR_THROW(o);
    zend_object *timer = NULL;
    bool retry = false;
    GC_ADDREF(&o->std);
    for (;;) {
        if (!closed_check(o) || !circuit_ok(o)) break;
        /* first come, first served: a newcomer queues behind the waiters */
        int got = o->wq_head && !retry ? 0 : take(o, return_value);
        if (got) break;
        ta_coro *co = ta_coro_current();
        if (!co) { zend_throw_error(NULL, "Pool::acquire() would block outside a coroutine"); break; }
        if (timeout && !timer) {
            zval t;
            object_init_ex(&t, ta_ce_timeout);
            timer = Z_OBJ(t);
            if (!ta_timeout_arm(TIMEOUT_OBJ(timer), timeout)) break;
        }
        ta_awaitable *taw = timer ? &TIMEOUT_OBJ(timer)->aw : NULL;
        if (taw && taw->done) {
            zend_throw_exception_ex(ta_ce_timeout_exception, 0, "Pool::acquire() timed out after " ZEND_LONG_FMT " ms", timeout);
            break;
        }
        pool_waiter w = { .co = co };
        ZVAL_UNDEF(&w.value);
        wq_push(o, &w);
        if (taw) ta_aw_add(taw, co);
        zend_result rc = ta_coro_wait(NULL, NULL);
        wq_remove(o, &w);
        if (taw) ta_aw_remove(taw, co);
        if (w.done) {
            /* handed over by release(): ours even if cancelled meanwhile */
            if (rc == SUCCESS) { ZVAL_COPY_VALUE(return_value, &w.value); break; }
            o->active--;
            give_back(o, &w.value);
        }
        if (rc == FAILURE) break;
        retry = true;
    }
    if (timer) OBJ_RELEASE(timer);
    OBJ_RELEASE(&o->std);
    if (EG(exception)) { zval_ptr_dtor(return_value); ZVAL_UNDEF(return_value); RETURN_THROWS(); }
}

/* {{{ Pool::tryAcquire(): mixed — a resource now, or null */
ZEND_METHOD(Async_Pool, tryAcquire)
{
    ZEND_PARSE_PARAMETERS_NONE();
    POOL_OR_THROW(o);
    if (!closed_check(o) || !circuit_ok(o)) RETURN_THROWS();
    int got = take(o, return_value);
    if (got < 0) RETURN_THROWS();
    if (!got) RETURN_NULL();
}

/* {{{ Pool::release(mixed $resource): void */
ZEND_METHOD(Async_Pool, release)
{
    zval *resource;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(resource)
    ZEND_PARSE_PARAMETERS_END();
    POOL_OR_THROW(o);
    if (o->active > 0) o->active--;
    zval r;
    ZVAL_COPY(&r, resource);
    bool keep = !o->closed && check(&o->before_release, &r);
    if (keep) {
        if (o->state == CB_RECOVERING) o->state = CB_ACTIVE;
        give_back(o, &r);
        report(o, NULL);
        if (EG(exception)) RETURN_THROWS();
        return;
    } else {
        bool was_open = !o->closed;
        destroy(o, &r);
        if (was_open) {
            zend_object *ex = ta_async_new_exception(ta_ce_pool_exception, 0, "The resource was released as broken");
            report(o, ex);
            OBJ_RELEASE(ex);
        }
    }
    /* a slot is free: the first waiter makes a new one */
    pool_waiter *w = wq_pop(o);
    if (w) ta_coro_wake(w->co);
    if (EG(exception)) RETURN_THROWS();
}

ZEND_METHOD(Async_Pool, close)
{
    ZEND_PARSE_PARAMETERS_NONE();
    POOL_OR_THROW(o);
    if (o->closed) return;
    o->closed = true;
    while (o->n_idle) { pool_item it = idle_shift(o); destroy(o, &it.value); }
    wake_all(o);
}

ZEND_METHOD(Async_Pool, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); POOL_OR_THROW(o); RETURN_BOOL(o->closed); }
ZEND_METHOD(Async_Pool, count) { ZEND_PARSE_PARAMETERS_NONE(); POOL_OR_THROW(o); RETURN_LONG(o->active + (zend_long) o->n_idle); }
ZEND_METHOD(Async_Pool, idleCount) { ZEND_PARSE_PARAMETERS_NONE(); POOL_OR_THROW(o); RETURN_LONG((zend_long) o->n_idle); }
ZEND_METHOD(Async_Pool, activeCount) { ZEND_PARSE_PARAMETERS_NONE(); POOL_OR_THROW(o); RETURN_LONG(o->active); }

ZEND_METHOD(Async_Pool, setCircuitBreakerStrategy)
{
    zend_object *strategy = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(strategy, ta_ce_circuit_strategy)
    ZEND_PARSE_PARAMETERS_END();
    POOL_OR_THROW(o);
    zval_ptr_dtor(&o->strategy);
    if (strategy) ZVAL_OBJ_COPY(&o->strategy, strategy); else ZVAL_UNDEF(&o->strategy);
}

ZEND_METHOD(Async_Pool, getState)
{
    ZEND_PARSE_PARAMETERS_NONE();
    POOL_OR_THROW(o);
    RETURN_OBJ_COPY(zend_enum_get_case_cstr(ta_ce_circuit_state, state_names[o->state]));
}

static void set_state(INTERNAL_FUNCTION_PARAMETERS, int state)
{
    ZEND_PARSE_PARAMETERS_NONE();
    POOL_OR_THROW(o);
    o->state = state;
    if (state != CB_INACTIVE) wake_all(o);
}

ZEND_METHOD(Async_Pool, activate) { set_state(INTERNAL_FUNCTION_PARAM_PASSTHRU, CB_ACTIVE); }
ZEND_METHOD(Async_Pool, deactivate) { set_state(INTERNAL_FUNCTION_PARAM_PASSTHRU, CB_INACTIVE); }
ZEND_METHOD(Async_Pool, recover) { set_state(INTERNAL_FUNCTION_PARAM_PASSTHRU, CB_RECOVERING); }

/* ---- registration ------------------------------------------------------------------ */

void ta_pool_register(void)
{
    ta_ce_circuit_state = register_class_Async_CircuitBreakerState();
    ta_ce_circuit_state->ce_flags |= ZEND_ACC_FINAL;    /* as enums declared in PHP are (8.2's gen_stub.php omits it) */
    ta_ce_circuit_breaker = register_class_Async_CircuitBreaker();
    ta_ce_circuit_strategy = register_class_Async_CircuitBreakerStrategy();
    ta_ce_pool_exception = register_class_Async_PoolException(ta_ce_async_exception);
    ta_ce_pool = register_class_Async_Pool(zend_ce_countable, ta_ce_circuit_breaker);
    ta_class_set_handlers(ta_ce_pool, pool_create, &h_pool, XtOffsetOf(ta_pool_obj, std), pool_free, false);
    h_pool.get_gc = pool_get_gc;
}
