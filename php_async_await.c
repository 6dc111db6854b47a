/* The await family: await(), await_all(), await_any_or_fail() and the
 * rest of php-async's (await_all_or_fail, await_first_success,
 * await_any_of, await_any_of_or_fail): a coroutine waits on module
 * awaitables, or, outside coroutines (worker boot), drives the loop. */
#include "php_async_objects.h"
#include "php_async_register.h"
#include "php_async_scope.h"
#include "reactor_apr.h"
#include "stubs/php_async_await_arginfo.h"

/* ---- waiting -------------------------------------------------------------------- */

/* What a module awaitable completes; NULL for anything else (a userland
 * class may implement Async\Awaitable, the module cannot wait for it), with
 * an Error thrown for one that could never complete (not made by spawn() or
 * timeout()). */
ta_awaitable *ta_awaitable_of(zend_object *obj)
{
    if (obj->ce == ta_ce_coroutine) {
        if (CORO_OBJ(obj)->id) return &CORO_OBJ(obj)->aw;
        zend_throw_error(NULL, "This Async\\Coroutine was not started by Async\\spawn()");
        return NULL;
    }
    if (obj->ce == ta_ce_future) return ta_future_awaitable(obj);
    if (obj->ce == ta_ce_timeout) {
        if (TIMEOUT_OBJ(obj)->ms) return &TIMEOUT_OBJ(obj)->aw;
        zend_throw_error(NULL, "This Async\\Timeout was not made by Async\\timeout()");
        return NULL;
    }
    return NULL;
}

/* The optional cancellation argument of await and the await_* functions. */
static bool cancellation_ok(zend_object *cancel, uint32_t arg)
{
    if (!cancel || ta_awaitable_of(cancel)) return true;
    if (!EG(exception)) zend_argument_type_error(arg, "must be an awaitable made by Async\\spawn() or Async\\timeout() (cancellation)");
    return false;
}

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
            ta_sched_idle();        /* back to boot code: the thread's own state */
            if (EG(exception)) return FAILURE;
            for (uint32_t i = 0; i < n; i++) if (list[i]->done) return SUCCESS;
            if (!ZEND_ASYNC_REACTOR_EXECUTE(ta_sched_has_ready(s)) && !ta_sched_has_ready(s)) {
                zend_throw_error(NULL, "Deadlock: nothing left that could complete the awaited operation");
                return FAILURE;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) ta_aw_add(list[i], co);
    zend_result rc = ta_coro_wait(NULL, NULL);
    for (uint32_t i = 0; i < n; i++) ta_aw_remove(list[i], co);
    return rc;
}

/* Returns the outcome of a completed awaitable, or throws it. */
static void outcome(zend_object *obj, zval *return_value)
{
    if (obj->ce == ta_ce_coroutine) {
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
    if (obj->ce == ta_ce_future) { ta_future_outcome(obj, return_value); return; }
    ta_timeout_obj *t = TIMEOUT_OBJ(obj);
    zend_throw_exception_ex(ta_ce_timeout_exception, 0, "Timed out after " ZEND_LONG_FMT " ms", t->ms);
}

/* The cancellation token completed first: OperationCanceledException, with
 * what the token failed with (a timeout()'s TimeoutException) as previous,
 * as php-async tells a tripped token from the awaited thing's own error. */
void ta_throw_cancelled(zend_object *cancel)
{
    zval ignored;
    ZVAL_UNDEF(&ignored);
    outcome(cancel, &ignored);
    zval_ptr_dtor(&ignored);
    zend_object *prev = EG(exception);
    if (prev) { GC_ADDREF(prev); zend_clear_exception(); }
    zend_object *ex = ta_async_new_exception(ta_ce_operation_canceled, 0, "Operation has been cancelled");
    if (prev) zend_exception_set_previous(ex, prev);
    zend_throw_exception_object(&(zval){ .value.obj = ex, .u1.type_info = IS_OBJECT_EX });
}

/* {{{ Async\await(Awaitable $awaitable, ?Awaitable $cancellation = null): mixed */
ZEND_FUNCTION(Async_await)
{
    zend_object *target, *cancel = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_OBJ_OF_CLASS(target, ta_ce_completable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_completable)
    ZEND_PARSE_PARAMETERS_END();
    ta_await_one(target, cancel, return_value);
}

void ta_await_one(zend_object *target, zend_object *cancel, zval *return_value)
{
    ta_awaitable *list[2] = { ta_awaitable_of(target), NULL };
    if (!list[0]) {
        if (!EG(exception)) zend_type_error("Async\\await(): unsupported awaitable");
        return;
    }
    if (!cancellation_ok(cancel, 2)) return;
    if (cancel) list[1] = ta_awaitable_of(cancel);
    if (target->ce == ta_ce_coroutine && CORO_OBJ(target)->co && CORO_OBJ(target)->co == ta_coro_current()) {
        zend_throw_error(NULL, "A coroutine cannot await itself");
        return;
    }
    if (wait_any(list, cancel ? 2 : 1) == FAILURE) return;
    if (list[0]->done) { outcome(target, return_value); return; }
    ta_throw_cancelled(cancel);
}

/* ---- the family over many: their awaitables come from a ta_await_src ------------ */

/* Puts v under the key (a string or an integer) in arr. */
static void add_keyed(zval *arr, zval *key, zval *v)
{
    if (Z_TYPE_P(key) == IS_STRING) zend_hash_update(Z_ARRVAL_P(arr), Z_STR_P(key), v);
    else zend_hash_index_update(Z_ARRVAL_P(arr), Z_LVAL_P(key), v);
}

/* What consuming the iterable threw, thrown (once it happened). */
static bool src_failed(ta_await_src *src)
{
    if (!src->error) return false;
    GC_ADDREF(src->error);
    zend_throw_exception_object(&(zval){ .value.obj = src->error, .u1.type_info = IS_OBJECT_EX });
    return true;
}

/* The one not taken yet (taken NULL: any) that completed first; src->n if none. */
static uint32_t next_completed(ta_await_src *src, const bool *taken)
{
    uint32_t next = src->n;
    for (uint32_t j = 0; j < src->n; j++) {
        ta_awaitable *aw = ta_awaitable_of(src->objs[j]);
        if ((!taken || !taken[j]) && aw->done && (next == src->n || aw->done_seq < ta_awaitable_of(src->objs[next])->done_seq))
            next = j;
    }
    return next;
}

/* Waits until one not taken yet completes, more arrive (or no more can),
 * or the cancellation completes (the caller looks which). */
static zend_result wait_more(ta_await_src *src, const bool *taken, zend_object *cancel)
{
    ta_awaitable **list = emalloc((src->n + 2) * sizeof *list);
    uint32_t w = 0;
    for (uint32_t j = 0; j < src->n; j++) {
        ta_awaitable *aw = ta_awaitable_of(src->objs[j]);
        if ((!taken || !taken[j]) && !aw->done) list[w++] = aw;
    }
    ta_awaitable *news = ta_await_src_news(src);
    if (news) list[w++] = news;
    if (cancel) list[w++] = ta_awaitable_of(cancel);
    zend_result rc = w ? wait_any(list, w) : SUCCESS;
    efree(list);
    return rc;
}

static bool cancelled_now(zend_object *cancel)
{
    if (!cancel || !ta_awaitable_of(cancel)->done) return false;
    ta_throw_cancelled(cancel);
    return true;
}

/* Waits until every awaitable completed (or the cancellation did). */
static zend_result wait_all(ta_await_src *src, zend_object *cancel)
{
    for (;;) {
        if (src_failed(src)) return FAILURE;
        bool all = src->done;
        for (uint32_t j = 0; all && j < src->n; j++) all = ta_awaitable_of(src->objs[j])->done;
        if (all) return SUCCESS;
        if (wait_more(src, NULL, cancel) == FAILURE || cancelled_now(cancel)) return FAILURE;
    }
}

/* [results, errors] of await_all(), keyed like the input, in its order. */
static void all_outcomes(ta_await_src *src, bool fill_null, zval *return_value)
{
    zval results, errors;
    array_init(&results);
    array_init(&errors);
    for (uint32_t j = 0; j < src->n; j++) {
        zval r;
        ZVAL_UNDEF(&r);
        outcome(src->objs[j], &r);
        if (!EG(exception)) { add_keyed(&results, &src->keys[j], &r); continue; }
        zval e;
        ZVAL_OBJ(&e, EG(exception));
        GC_ADDREF(EG(exception));
        zend_clear_exception();
        add_keyed(&errors, &src->keys[j], &e);
        if (fill_null) { ZVAL_NULL(&r); add_keyed(&results, &src->keys[j], &r); }
    }
    array_init_size(return_value, 2);
    add_next_index_zval(return_value, &results);
    add_next_index_zval(return_value, &errors);
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
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_awaitable)
        Z_PARAM_BOOL(preserve)
        Z_PARAM_BOOL(fill_null)
    ZEND_PARSE_PARAMETERS_END();
    (void) preserve;   /* results always come back under their keys, in input order */
    if (!cancellation_ok(cancel, 2)) RETURN_THROWS();
    ta_await_src *src = ta_await_src_new(iterable);
    if (!src) RETURN_THROWS();
    if (wait_all(src, cancel) == SUCCESS) all_outcomes(src, fill_null, return_value);
    ta_await_src_release(src);
}

/* The first to complete of src's, or of src's and the cancellation. */
static void first_of(ta_await_src *src, zend_object *cancel, zval *return_value)
{
    for (;;) {
        uint32_t first = next_completed(src, NULL);
        ta_awaitable *c = cancel ? ta_awaitable_of(cancel) : NULL;
        /* several may have completed before this coroutine ran again: the
         * first to complete wins, not the first in input order */
        if (c && c->done && (first == src->n || c->done_seq < ta_awaitable_of(src->objs[first])->done_seq)) {
            ta_throw_cancelled(cancel);
            return;
        }
        if (first < src->n) { outcome(src->objs[first], return_value); return; }
        if (src_failed(src)) return;
        if (src->done && !src->n) { RETVAL_NULL(); return; }     /* php-async: nothing to wait for is null */
        if (wait_more(src, NULL, cancel) == FAILURE) return;
    }
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
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_awaitable)
    ZEND_PARSE_PARAMETERS_END();
    if (!cancellation_ok(cancel, 2)) RETURN_THROWS();
    ta_await_src *src = ta_await_src_new(iterable);
    if (!src) RETURN_THROWS();
    first_of(src, cancel, return_value);
    ta_await_src_release(src);
}

/* ---- the rest of the await family ------------------------------------------------
 * They take outcomes in the order the awaitables completed (not input
 * order): until `need` succeeded, every one is in (need 0), or, with
 * fail_fast, the first failure, which is left thrown. Results and errors
 * keep their input keys; with preserve they come back in input order,
 * else in completion order. */
typedef struct {
    ta_await_src *src;
    zend_object *cancel;
    uint32_t need;              /* successes to wait for; 0: all */
    bool fail_fast, preserve, fill_null;
    zval results, errors;
    uint32_t successes;
} await_some_t;

/* Re-keys arr in the input's order. */
static void input_order(zval *arr, ta_await_src *src)
{
    zval sorted, *x;
    array_init(&sorted);
    for (uint32_t j = 0; j < src->n; j++) {
        zval *key = &src->keys[j];
        x = Z_TYPE_P(key) == IS_STRING ? zend_hash_find(Z_ARRVAL_P(arr), Z_STR_P(key)) : zend_hash_index_find(Z_ARRVAL_P(arr), Z_LVAL_P(key));
        if (x) { Z_TRY_ADDREF_P(x); add_keyed(&sorted, key, x); }
    }
    zval_ptr_dtor(arr);
    ZVAL_COPY_VALUE(arr, &sorted);
}

/* Takes the outcome of src's j-th; false when it failed and fails all. */
static bool take_one(await_some_t *a, uint32_t j)
{
    zval r, *key = &a->src->keys[j];
    ZVAL_UNDEF(&r);
    outcome(a->src->objs[j], &r);
    if (!EG(exception)) { add_keyed(&a->results, key, &r); a->successes++; return true; }
    if (a->fail_fast) return false;
    zval e;
    ZVAL_OBJ(&e, EG(exception));
    GC_ADDREF(EG(exception));
    zend_clear_exception();
    add_keyed(&a->errors, key, &e);
    if (a->fill_null) { ZVAL_NULL(&r); add_keyed(&a->results, key, &r); }
    return true;
}

static zend_result await_some(await_some_t *a)
{
    ta_await_src *src = a->src;
    bool *taken = NULL;
    uint32_t cap = 0, took = 0;
    zend_result rc = SUCCESS;
    array_init(&a->results);
    array_init(&a->errors);
    while (!a->need || a->successes < a->need) {
        if (cap < src->n) {
            taken = erealloc(taken, src->n * sizeof *taken);
            memset(taken + cap, 0, (src->n - cap) * sizeof *taken);
            cap = src->n;
        }
        uint32_t next = next_completed(src, taken);
        if (next < src->n) {
            taken[next] = true;
            took++;
            if (!take_one(a, next)) { rc = FAILURE; break; }
            continue;
        }
        if (src_failed(src)) { rc = FAILURE; break; }
        if (src->done && took == src->n) break;
        if (wait_more(src, taken, a->cancel) == FAILURE || cancelled_now(a->cancel)) { rc = FAILURE; break; }
    }
    if (rc == SUCCESS && a->preserve) {
        input_order(&a->results, src);
        input_order(&a->errors, src);
    }
    if (taken) efree(taken);
    if (rc == FAILURE) { zval_ptr_dtor(&a->results); zval_ptr_dtor(&a->errors); }
    ta_await_src_release(src);
    return rc;
}

/* Its src, from the iterable argument. */
static bool some_src(await_some_t *a, zval *iterable, uint32_t cancel_arg)
{
    if (!cancellation_ok(a->cancel, cancel_arg)) return false;
    a->src = ta_await_src_new(iterable);
    return a->src != NULL;
}

/* {{{ Async\await_all_or_fail(iterable $triggers, ?Awaitable $cancellation = null,
 *                             bool $preserveKeyOrder = true): array
 * Every result, keyed like $triggers; the first failure is thrown. */
ZEND_FUNCTION(Async_await_all_or_fail)
{
    zval *iterable;
    await_some_t a = { .preserve = true, .fail_fast = true };
    ZEND_PARSE_PARAMETERS_START(1, 3)
        Z_PARAM_ITERABLE(iterable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(a.cancel, ta_ce_awaitable)
        Z_PARAM_BOOL(a.preserve)
    ZEND_PARSE_PARAMETERS_END();
    if (!some_src(&a, iterable, 2)) RETURN_THROWS();
    if (await_some(&a) == FAILURE) RETURN_THROWS();
    zval_ptr_dtor(&a.errors);
    RETURN_COPY_VALUE(&a.results);
}

/* {{{ Async\await_first_success(iterable $triggers, ?Awaitable $cancellation = null): mixed
 * [the first successful result (null if none succeeded), the errors of
 * those that failed before it]. */
ZEND_FUNCTION(Async_await_first_success)
{
    zval *iterable;
    await_some_t a = { .need = 1, .preserve = false };
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ITERABLE(iterable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(a.cancel, ta_ce_awaitable)
    ZEND_PARSE_PARAMETERS_END();
    if (!some_src(&a, iterable, 2)) RETURN_THROWS();
    if (await_some(&a) == FAILURE) RETURN_THROWS();
    zval first;
    ZVAL_NULL(&first);
    zval *r;
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL(a.results), r) { ZVAL_COPY(&first, r); break; } ZEND_HASH_FOREACH_END();
    zval_ptr_dtor(&a.results);
    array_init_size(return_value, 2);
    add_next_index_zval(return_value, &first);
    add_next_index_zval(return_value, &a.errors);
}

static bool count_ok(zend_long count)
{
    if (count >= 0) return true;
    zend_argument_value_error(1, "must be greater than or equal to 0");
    return false;
}

/* {{{ Async\await_any_of(int $count, iterable $triggers, ?Awaitable $cancellation = null,
 *                        bool $preserveKeyOrder = true, bool $fillNull = false): array
 * [results, errors] once $count succeeded (or all are in). */
ZEND_FUNCTION(Async_await_any_of)
{
    zend_long count;
    zval *iterable;
    await_some_t a = { .preserve = true };
    ZEND_PARSE_PARAMETERS_START(2, 5)
        Z_PARAM_LONG(count)
        Z_PARAM_ITERABLE(iterable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(a.cancel, ta_ce_awaitable)
        Z_PARAM_BOOL(a.preserve)
        Z_PARAM_BOOL(a.fill_null)
    ZEND_PARSE_PARAMETERS_END();
    if (!count_ok(count) || !some_src(&a, iterable, 3)) RETURN_THROWS();
    if (count == 0) {
        ta_await_src_release(a.src);
        zval none;
        array_init_size(return_value, 2);
        ZVAL_EMPTY_ARRAY(&none); add_next_index_zval(return_value, &none);
        ZVAL_EMPTY_ARRAY(&none); add_next_index_zval(return_value, &none);
        return;
    }
    a.need = (uint32_t) count;
    if (await_some(&a) == FAILURE) RETURN_THROWS();
    array_init_size(return_value, 2);
    add_next_index_zval(return_value, &a.results);
    add_next_index_zval(return_value, &a.errors);
}

/* {{{ Async\await_any_of_or_fail(int $count, iterable $triggers, ?Awaitable $cancellation = null,
 *                                bool $preserveKeyOrder = true): array
 * The first $count results; the first failure is thrown. */
ZEND_FUNCTION(Async_await_any_of_or_fail)
{
    zend_long count;
    zval *iterable;
    await_some_t a = { .preserve = true, .fail_fast = true };
    ZEND_PARSE_PARAMETERS_START(2, 4)
        Z_PARAM_LONG(count)
        Z_PARAM_ITERABLE(iterable)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(a.cancel, ta_ce_awaitable)
        Z_PARAM_BOOL(a.preserve)
    ZEND_PARSE_PARAMETERS_END();
    if (!count_ok(count) || !some_src(&a, iterable, 3)) RETURN_THROWS();
    if (count == 0) { ta_await_src_release(a.src); RETURN_EMPTY_ARRAY(); }
    a.need = (uint32_t) count;
    if (await_some(&a) == FAILURE) RETURN_THROWS();
    zval_ptr_dtor(&a.errors);
    RETURN_COPY_VALUE(&a.results);
}

void ta_await_register(void)
{
    zend_register_functions(NULL, ext_functions, NULL, MODULE_PERSISTENT);
}
