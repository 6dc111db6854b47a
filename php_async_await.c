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

/* Collects the awaitables of an iterable, keeping keys. */
static bool collect(zval *iterable, HashTable *out)
{
    zend_hash_init(out, 8, NULL, ZVAL_PTR_DTOR, 0);
    bool ok = true;
    if (Z_TYPE_P(iterable) == IS_ARRAY) {
        zend_string *k; zend_ulong idx; zval *v;
        ZEND_HASH_FOREACH_KEY_VAL(Z_ARRVAL_P(iterable), idx, k, v) {
            ZVAL_DEREF(v);
            if (Z_TYPE_P(v) != IS_OBJECT || !ta_awaitable_of(Z_OBJ_P(v))) { ok = false; break; }
            Z_ADDREF_P(v);
            if (k) zend_hash_update(out, k, v); else zend_hash_index_update(out, idx, v);
        } ZEND_HASH_FOREACH_END();
    } else {
        /* Generators, ArrayIterator, IteratorAggregate, user Iterators: each
         * class brings its own iterator. */
        zend_class_entry *ce = Z_OBJCE_P(iterable);
        zend_object_iterator *it = ce->get_iterator ? ce->get_iterator(ce, iterable, 0) : NULL;
        if (!it) {
            zend_hash_destroy(out);
            if (!EG(exception)) zend_type_error("Expected an iterable of Async\\Awaitable");
            return false;
        }
        if (it->funcs->rewind) it->funcs->rewind(it);
        for (; !EG(exception) && it->funcs->valid(it) == SUCCESS; it->funcs->move_forward(it)) {
            zval *v = it->funcs->get_current_data(it), key;
            if (!v || EG(exception)) break;
            ZVAL_DEREF(v);
            if (Z_TYPE_P(v) != IS_OBJECT || !ta_awaitable_of(Z_OBJ_P(v))) { ok = false; break; }
            Z_ADDREF_P(v);
            if (it->funcs->get_current_key) it->funcs->get_current_key(it, &key);
            else ZVAL_NULL(&key);
            if (Z_TYPE(key) == IS_STRING) zend_hash_update(out, Z_STR(key), v);
            else if (Z_TYPE(key) == IS_LONG) zend_hash_index_update(out, Z_LVAL(key), v);
            else if (Z_TYPE(key) == IS_NULL) zend_hash_next_index_insert(out, v);
            else {
                /* php-async's words; an object or float key has no place in the results */
                zval_ptr_dtor(v);
                zval_ptr_dtor(&key);
                zend_throw_exception(ta_ce_async_exception, "Invalid key type: must be string, long or null", 0);
                break;
            }
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
            ta_awaitable *aw = ta_awaitable_of(Z_OBJ_P(v));
            if (!aw->done) list[n++] = aw;
        } ZEND_HASH_FOREACH_END();
        if (n == 0) { efree(list); return SUCCESS; }
        if (cancel) list[n++] = ta_awaitable_of(cancel);
        zend_result rc = wait_any(list, n);
        bool cancelled = cancel && ta_awaitable_of(cancel)->done;
        efree(list);
        if (rc == FAILURE) return FAILURE;
        if (cancelled) {
            ta_throw_cancelled(cancel);
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
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_awaitable)
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
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_awaitable)
    ZEND_PARSE_PARAMETERS_END();
    if (!cancellation_ok(cancel, 2)) RETURN_THROWS();
    HashTable items;
    if (!collect(iterable, &items)) RETURN_THROWS();
    uint32_t n = zend_hash_num_elements(&items);
    if (n == 0) {
        /* php-async: nothing to wait for is null */
        zend_hash_destroy(&items);
        RETURN_NULL();
    }
    ta_awaitable **list = emalloc((n + 1) * sizeof *list);
    zend_object **objs = emalloc((n + 1) * sizeof *objs);
    uint32_t i = 0;
    zval *v;
    ZEND_HASH_FOREACH_VAL(&items, v) {
        objs[i] = Z_OBJ_P(v);
        list[i++] = ta_awaitable_of(Z_OBJ_P(v));
    } ZEND_HASH_FOREACH_END();
    if (cancel) { objs[i] = cancel; list[i++] = ta_awaitable_of(cancel); }
    if (wait_any(list, i) == SUCCESS) {
        /* Several may have completed before this coroutine ran again: the
         * first to complete wins, not the first in input order. */
        uint32_t first = i;
        for (uint32_t j = 0; j < i; j++)
            if (list[j]->done && (first == i || list[j]->done_seq < list[first]->done_seq)) first = j;
        if (cancel && objs[first] == cancel) ta_throw_cancelled(cancel);
        else outcome(objs[first], return_value);
    }
    efree(list);
    efree(objs);
    zend_hash_destroy(&items);
}

/* ---- the rest of the await family ------------------------------------------------
 * They take outcomes in the order the awaitables completed (not input
 * order): until `need` succeeded, every one is in (need 0), or, with
 * fail_fast, the first failure, which is left thrown. Results and errors
 * keep their input keys; with preserve they come back in input order,
 * else in completion order. */
typedef struct {
    HashTable items;
    zend_object *cancel;
    uint32_t need;              /* successes to wait for; 0: all */
    bool fail_fast, preserve, fill_null;
    zval results, errors;
    uint32_t successes;
} await_some_t;

/* The one not taken yet that completed first; n if none has. */
static uint32_t next_completed(zend_object **objs, const bool *taken, uint32_t n)
{
    uint32_t next = n;
    for (uint32_t j = 0; j < n; j++) {
        ta_awaitable *aw = ta_awaitable_of(objs[j]);
        if (!taken[j] && aw->done && (next == n || aw->done_seq < ta_awaitable_of(objs[next])->done_seq)) next = j;
    }
    return next;
}

/* Re-keys arr in the input's order (the keys and indexes of the input). */
static void input_order(zval *arr, zend_string **keys, const zend_ulong *idxs, uint32_t n)
{
    zval sorted, *x;
    array_init(&sorted);
    for (uint32_t j = 0; j < n; j++) {
        x = keys[j] ? zend_hash_find(Z_ARRVAL_P(arr), keys[j]) : zend_hash_index_find(Z_ARRVAL_P(arr), idxs[j]);
        if (x) { Z_TRY_ADDREF_P(x); add_keyed(&sorted, keys[j], idxs[j], x); }
    }
    zval_ptr_dtor(arr);
    ZVAL_COPY_VALUE(arr, &sorted);
}

static zend_result await_some(await_some_t *a)
{
    uint32_t n = zend_hash_num_elements(&a->items);
    zend_object **objs = emalloc((n + 1) * sizeof *objs);
    zend_string **keys = emalloc((n + 1) * sizeof *keys);
    zend_ulong *idxs = emalloc((n + 1) * sizeof *idxs);
    bool *taken = ecalloc(n + 1, sizeof *taken);
    ta_awaitable **wait = emalloc((n + 1) * sizeof *wait);
    uint32_t i = 0, left = n;
    zend_string *k; zend_ulong idx; zval *v;
    ZEND_HASH_FOREACH_KEY_VAL(&a->items, idx, k, v) { objs[i] = Z_OBJ_P(v); keys[i] = k; idxs[i] = idx; i++; } ZEND_HASH_FOREACH_END();
    array_init(&a->results);
    array_init(&a->errors);
    zend_result rc = SUCCESS;
    while (left && (!a->need || a->successes < a->need)) {
        uint32_t next = next_completed(objs, taken, n);
        if (next == n) {
            uint32_t w = 0;
            for (uint32_t j = 0; j < n; j++) if (!taken[j]) wait[w++] = ta_awaitable_of(objs[j]);
            if (a->cancel) wait[w++] = ta_awaitable_of(a->cancel);
            if (wait_any(wait, w) == FAILURE) { rc = FAILURE; break; }
            if (a->cancel && ta_awaitable_of(a->cancel)->done) { ta_throw_cancelled(a->cancel); rc = FAILURE; break; }
            continue;
        }
        taken[next] = true;
        left--;
        zval r;
        ZVAL_UNDEF(&r);
        outcome(objs[next], &r);
        if (EG(exception)) {
            if (a->fail_fast) { rc = FAILURE; break; }
            zval e;
            ZVAL_OBJ(&e, EG(exception));
            GC_ADDREF(EG(exception));
            zend_clear_exception();
            add_keyed(&a->errors, keys[next], idxs[next], &e);
            if (a->fill_null) { ZVAL_NULL(&r); add_keyed(&a->results, keys[next], idxs[next], &r); }
        } else {
            add_keyed(&a->results, keys[next], idxs[next], &r);
            a->successes++;
        }
    }
    if (rc == SUCCESS && a->preserve) {
        input_order(&a->results, keys, idxs, n);
        input_order(&a->errors, keys, idxs, n);
    }
    efree(objs); efree(keys); efree(idxs); efree(taken); efree(wait);
    if (rc == FAILURE) { zval_ptr_dtor(&a->results); zval_ptr_dtor(&a->errors); }
    zend_hash_destroy(&a->items);
    return rc;
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
    if (!cancellation_ok(a.cancel, 2) || !collect(iterable, &a.items)) RETURN_THROWS();
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
    if (!cancellation_ok(a.cancel, 2) || !collect(iterable, &a.items)) RETURN_THROWS();
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
    if (!count_ok(count) || !cancellation_ok(a.cancel, 3) || !collect(iterable, &a.items)) RETURN_THROWS();
    if (count == 0) {
        zend_hash_destroy(&a.items);
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
    if (!count_ok(count) || !cancellation_ok(a.cancel, 3) || !collect(iterable, &a.items)) RETURN_THROWS();
    if (count == 0) { zend_hash_destroy(&a.items); RETURN_EMPTY_ARRAY(); }
    a.need = (uint32_t) count;
    if (await_some(&a) == FAILURE) RETURN_THROWS();
    zval_ptr_dtor(&a.errors);
    RETURN_COPY_VALUE(&a.results);
}

void ta_await_register(void)
{
    zend_register_functions(NULL, ext_functions, NULL, MODULE_PERSISTENT);
}
