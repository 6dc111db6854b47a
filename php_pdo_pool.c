/* TrueAsync's PDO pool, with true-async/php-src's attributes and rules.
 *
 * new PDO($dsn, $user, $pass, [PDO::ATTR_POOL_ENABLED => true, ...]) makes
 * no connection of its own: the object is a facade over an Async\Pool
 * (PDO::getPool()) whose resources are plain PDO objects made with the same
 * arguments. A coroutine's first call on the facade takes one (waiting, as
 * a coroutine, while POOL_MAX are out); the call runs on it (its $this is
 * swapped for the connection's, so statements belong to that connection);
 * the coroutine keeps it while a transaction or a statement of it is open,
 * and gives it back after the call that closes the last. When the
 * coroutine ends, a transaction left open is rolled back and the
 * connection goes back. A connection that failed is asked whether it still
 * lives before it goes back (a dead one is destroyed, never handed out
 * again); one idle for POOL_HEALTHCHECK_INTERVAL ms is checked before it is
 * handed out. Works for every PDO driver (check_liveness where it has one). */
#include "php_pdo_pool.h"
#include "php_db_guard.h"

#include <zend_closures.h>
#include <ext/pdo/php_pdo_driver.h>
#include <pthread.h>
#include "stubs/php_pdo_pool_arginfo.h"

/* true-async/php-src's values (PHP 8.2's own attributes stop at 21) */
enum { ATTR_POOL_ENABLED = 22, ATTR_POOL_MIN = 23, ATTR_POOL_MAX = 24, ATTR_POOL_HEALTHCHECK_INTERVAL = 25 };

typedef struct {
    zend_object *facade;        /* not held: it holds this */
    zend_object *pool;          /* the Async\Pool; held */
    zval args[4];               /* dsn, user, password, options without the pool's */
    HashTable bindings;         /* coroutine -> its connection (a PDO object, held) */
} pdo_pool;

/* facade handle -> pdo_pool, this thread's */
static __thread HashTable *tl_pools;
static zend_class_entry *ce_pdo, *ce_async_pool;
static zif_handler orig_construct;
static HashTable helpers;       /* the pool's callbacks, in no class's function table */
static zend_object_handlers facade_handlers;
static void (*orig_free_obj)(zend_object *obj);
static pthread_once_t facade_once = PTHREAD_ONCE_INIT;
static const zend_object_handlers *facade_base;

void ta_pdo_pool_rinit(void) { tl_pools = NULL; }

static zend_ulong coro_key(ta_coro *co) { return (zend_ulong) (uintptr_t) co; }

static pdo_pool *facade_of(zend_object *obj)
{
    pdo_pool *p = tl_pools ? zend_hash_index_find_ptr(tl_pools, obj->handle) : NULL;
    return p && p->facade == obj ? p : NULL;
}

static pdo_pool *pool_of(zend_object *pool)
{
    pdo_pool *p;
    if (tl_pools) ZEND_HASH_FOREACH_PTR(tl_pools, p) {
        if (p->pool == pool) return p;
    } ZEND_HASH_FOREACH_END();
    return NULL;
}

static void pool_call(pdo_pool *p, const char *method, zval *arg, zval *rv)
{
    zend_call_method(p->pool, ce_async_pool, NULL, method, strlen(method), rv, arg ? 1 : 0, arg, NULL);
}

/* ---- the Async\Pool's callbacks ($this: the Async\Pool) --------------------- */

static ZEND_NAMED_FUNCTION(pool_factory)
{
    ZEND_PARSE_PARAMETERS_NONE();
    pdo_pool *p = Z_TYPE(EX(This)) == IS_OBJECT ? pool_of(Z_OBJ(EX(This))) : NULL;
    if (!p) {
        zend_throw_exception(php_pdo_get_exception(), "The pool's PDO object is gone", 0);
        RETURN_THROWS();
    }
    object_init_ex(return_value, ce_pdo);
    zend_call_known_instance_method(ce_pdo->constructor, Z_OBJ_P(return_value), NULL, 4, p->args);
    if (EG(exception)) {
        zval_ptr_dtor(return_value);
        ZVAL_UNDEF(return_value);
    }
}

static ZEND_NAMED_FUNCTION(pool_healthcheck)
{
    zval *conn;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(conn, ce_pdo)
    ZEND_PARSE_PARAMETERS_END();
    RETURN_BOOL(!ta_db_pdo_broken(Z_OBJ_P(conn), true));
}

static ZEND_NAMED_FUNCTION(pool_before_release)
{
    zval *conn;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(conn, ce_pdo)
    ZEND_PARSE_PARAMETERS_END();
    RETURN_BOOL(!ta_db_pdo_broken(Z_OBJ_P(conn), false));
}

/* Names no PHP code can call; signatures from stubs/php_pdo_pool.stub.php */
static const zend_function_entry helper_entries[] = {
    ZEND_RAW_FENTRY("PDO pool factory", pool_factory, arginfo_class_Async_Pool_pdoFactory, ZEND_ACC_PUBLIC)
    ZEND_RAW_FENTRY("PDO pool healthcheck", pool_healthcheck, arginfo_class_Async_Pool_pdoHealthcheck, ZEND_ACC_PUBLIC)
    ZEND_RAW_FENTRY("PDO pool beforeRelease", pool_before_release, arginfo_class_Async_Pool_pdoBeforeRelease,
                    ZEND_ACC_PUBLIC)
    ZEND_FE_END
};

static void helper_closure(zval *out, const char *lc_name, zval *pool)
{
    zend_function *fn = zend_hash_str_find_ptr(&helpers, lc_name, strlen(lc_name));
    zend_create_fake_closure(out, fn, ce_async_pool, ce_async_pool, pool);
}

/* ---- a coroutine's connection ------------------------------------------------ */

/* Its connection, taken from the pool on first use (NULL: an exception).
 * The caller holds the facade. */
static zend_object *binding_get(pdo_pool *p, ta_coro *co)
{
    zval *b = zend_hash_index_find(&p->bindings, coro_key(co));
    if (b) return Z_OBJ_P(b);
    zval rv;
    ZVAL_UNDEF(&rv);
    pool_call(p, "acquire", NULL, &rv);
    if (EG(exception) || Z_TYPE(rv) != IS_OBJECT) { zval_ptr_dtor(&rv); return NULL; }
    zend_hash_index_add_new(&p->bindings, coro_key(co), &rv);
    return Z_OBJ(rv);
}

/* Gives the coroutine's connection back (rolled back first if asked). */
static void binding_release(pdo_pool *p, ta_coro *co, bool rollback)
{
    zval *b = zend_hash_index_find(&p->bindings, coro_key(co));
    if (!b) return;
    zval conn;
    ZVAL_COPY_VALUE(&conn, b);
    zend_hash_index_del(&p->bindings, coro_key(co));
    pdo_dbh_t *dbh = php_pdo_dbh_fetch_inner(Z_OBJ(conn));
    if (rollback && dbh->driver_data && dbh->methods && dbh->in_txn && dbh->methods->rollback) {
        dbh->methods->rollback(dbh);
        dbh->in_txn = false;
    }
    ta_db_guard_forget_pdo(Z_OBJ(conn), co);
    zval rv;
    ZVAL_UNDEF(&rv);
    pool_call(p, "release", &conn, &rv);
    zval_ptr_dtor(&rv);
    zval_ptr_dtor(&conn);
}

/* After a call: back to the pool unless a transaction or a statement of
 * the connection is still open (the binding holds the only reference). */
static void binding_settle(pdo_pool *p, ta_coro *co)
{
    zval *b = zend_hash_index_find(&p->bindings, coro_key(co));
    if (!b || GC_REFCOUNT(Z_OBJ_P(b)) > 1 || ta_db_pdo_busy(Z_OBJ_P(b))) return;
    zend_object *ex = EG(exception);
    EG(exception) = NULL;
    binding_release(p, co, false);
    if (EG(exception)) zend_clear_exception();
    EG(exception) = ex;
}

/* The guard's PDO wrappers call this first: a facade's call runs on the
 * coroutine's connection. */
static bool pool_redirect(zif_handler orig, INTERNAL_FUNCTION_PARAMETERS)
{
    if (!tl_pools || Z_TYPE(EX(This)) != IS_OBJECT) return false;
    zend_object *facade = Z_OBJ(EX(This));
    pdo_pool *p = facade_of(facade);
    if (!p) return false;
    ta_coro *co = ta_coro_current();
    GC_ADDREF(facade);              /* it may be let go while we wait */
    zend_object *conn = binding_get(p, co);
    if (conn) {
        Z_OBJ(EX(This)) = conn;
        ta_db_guard_call_pdo(orig, INTERNAL_FUNCTION_PARAM_PASSTHRU);
        Z_OBJ(EX(This)) = facade;
        binding_settle(p, co);
    }
    OBJ_RELEASE(facade);
    return true;
}

static void coro_ended(ta_coro *co)
{
    /* a rollback may wait and the table change meanwhile: look again */
    for (bool again = true; again && tl_pools;) {
        again = false;
        pdo_pool *p;
        ZEND_HASH_FOREACH_PTR(tl_pools, p) {
            if (zend_hash_index_exists(&p->bindings, coro_key(co))) { again = true; break; }
        } ZEND_HASH_FOREACH_END();
        if (again) binding_release(p, co, true);
    }
}

/* ---- the facade ------------------------------------------------------------- */

static void pool_free(pdo_pool *p, bool orderly)
{
    zend_hash_index_del(tl_pools, p->facade->handle);
    if (orderly) {
        zval rv;
        ZVAL_UNDEF(&rv);
        pool_call(p, "close", NULL, &rv);
        zval_ptr_dtor(&rv);
        if (EG(exception)) zend_clear_exception();
        zval *conn;
        ZEND_HASH_FOREACH_VAL(&p->bindings, conn) {
            zval_ptr_dtor(conn);                /* it goes once its statements do */
        } ZEND_HASH_FOREACH_END();
        for (int i = 0; i < 4; i++) zval_ptr_dtor(&p->args[i]);
        OBJ_RELEASE(p->pool);
    }
    zend_hash_destroy(&p->bindings);
    efree(p);
}

static void facade_free(zend_object *obj)
{
    pdo_pool *p = facade_of(obj);
    /* at shutdown the pool may be freed already: the engine frees it all */
    if (p) pool_free(p, !(EG(flags) & EG_FLAGS_OBJECT_STORE_NO_REUSE));
    orig_free_obj(obj);
}

static void facade_handlers_init(void)
{
    facade_handlers = *facade_base;
    orig_free_obj = facade_base->free_obj;
    facade_handlers.free_obj = facade_free;
}

/* The options for each connection: the caller's without the pool's. */
static void connection_options(zval *out, zval *opts)
{
    ZVAL_ARR(out, zend_array_dup(Z_ARRVAL_P(opts)));
    for (zend_ulong k = ATTR_POOL_ENABLED; k <= ATTR_POOL_HEALTHCHECK_INTERVAL; k++) zend_hash_index_del(Z_ARRVAL_P(out), k);
}

static bool make_pool(pdo_pool *p, zval *opts)
{
    zend_long min = pdo_attr_lval(opts, ATTR_POOL_MIN, 0), max = pdo_attr_lval(opts, ATTR_POOL_MAX, 10);
    zend_long interval = pdo_attr_lval(opts, ATTR_POOL_HEALTHCHECK_INTERVAL, 0);
    if (min < 0) min = 0;
    if (max < 1) max = 1;
    if (max < min) max = min;
    if (interval < 0) interval = 0;
    zval pool, a[8], rv;
    object_init_ex(&pool, ce_async_pool);
    p->pool = Z_OBJ(pool);
    helper_closure(&a[0], "pdo pool factory", &pool);
    ZVAL_NULL(&a[1]);
    helper_closure(&a[2], "pdo pool healthcheck", &pool);
    ZVAL_NULL(&a[3]);
    helper_closure(&a[4], "pdo pool beforerelease", &pool);
    ZVAL_LONG(&a[5], min);
    ZVAL_LONG(&a[6], max);
    ZVAL_LONG(&a[7], interval);
    ZVAL_UNDEF(&rv);
    zend_call_known_instance_method(ce_async_pool->constructor, p->pool, &rv, 8, a);
    zval_ptr_dtor(&rv);
    for (int i = 0; i < 8; i++) zval_ptr_dtor(&a[i]);
    return !EG(exception);
}

static void facade_make(zend_object *facade, zend_string *dsn, zend_string *user, zend_string *pass, zval *opts)
{
    if (pdo_attr_lval(opts, PDO_ATTR_PERSISTENT, 0)) {
        zend_throw_exception(php_pdo_get_exception(), "PDO::ATTR_POOL_ENABLED cannot be used with PDO::ATTR_PERSISTENT", 0);
        return;
    }
    if (facade_of(facade)) { zend_throw_error(NULL, "PDO object is already constructed"); return; }
    if (!tl_pools) {
        ALLOC_HASHTABLE(tl_pools);
        zend_hash_init(tl_pools, 4, NULL, NULL, 0);
    }
    pdo_pool *p = ecalloc(1, sizeof *p);
    p->facade = facade;
    ZVAL_STR_COPY(&p->args[0], dsn);
    if (user) ZVAL_STR_COPY(&p->args[1], user); else ZVAL_NULL(&p->args[1]);
    if (pass) ZVAL_STR_COPY(&p->args[2], pass); else ZVAL_NULL(&p->args[2]);
    connection_options(&p->args[3], opts);
    zend_hash_init(&p->bindings, 8, NULL, NULL, 0);
    zend_hash_index_add_new_ptr(tl_pools, facade->handle, p);
    if (!make_pool(p, opts)) { pool_free(p, true); return; }
    facade_base = facade->handlers;
    pthread_once(&facade_once, facade_handlers_init);
    if (facade->handlers->free_obj == orig_free_obj) facade->handlers = &facade_handlers;
}

/* PDO::__construct(): a pool facade when ATTR_POOL_ENABLED is set. */
static ZEND_NAMED_FUNCTION(pdo_construct)
{
    zend_string *dsn, *user = NULL, *pass = NULL;
    zval *opts = NULL;
    if (ZEND_CALL_NUM_ARGS(execute_data) >= 4) {
        zval *o = ZEND_CALL_ARG(execute_data, 4);
        ZVAL_DEREF(o);
        if (Z_TYPE_P(o) == IS_ARRAY && pdo_attr_lval(o, ATTR_POOL_ENABLED, 0)) opts = o;
    }
    if (!opts) { orig_construct(INTERNAL_FUNCTION_PARAM_PASSTHRU); return; }
    ZEND_PARSE_PARAMETERS_START(1, 4)
        Z_PARAM_STR(dsn)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(user)
        Z_PARAM_STR_OR_NULL(pass)
        Z_PARAM_ARRAY_OR_NULL(opts)
    ZEND_PARSE_PARAMETERS_END();
    facade_make(Z_OBJ_P(ZEND_THIS), dsn, user, pass, opts);
}

/* {{{ PDO::getPool(): ?Async\Pool — the pool of a facade, else null */
static ZEND_NAMED_FUNCTION(pdo_get_pool)
{
    ZEND_PARSE_PARAMETERS_NONE();
    pdo_pool *p = facade_of(Z_OBJ_P(ZEND_THIS));
    if (!p) RETURN_NULL();
    RETURN_OBJ_COPY(p->pool);
}

static const zend_function_entry pdo_methods[] = {
    ZEND_RAW_FENTRY("getPool", pdo_get_pool, arginfo_class_PDO_getPool, ZEND_ACC_PUBLIC)
    ZEND_FE_END
};

void ta_pdo_pool_install(void)
{
    ce_pdo = zend_hash_str_find_ptr(CG(class_table), ZEND_STRL("pdo"));
    ce_async_pool = zend_hash_str_find_ptr(CG(class_table), ZEND_STRL("async\\pool"));
    if (!ce_pdo || !ce_async_pool || !ce_pdo->constructor || ce_pdo->constructor->type != ZEND_INTERNAL_FUNCTION) return;
    orig_construct = ce_pdo->constructor->internal_function.handler;
    ce_pdo->constructor->internal_function.handler = pdo_construct;
    zend_register_functions(ce_pdo, pdo_methods, &ce_pdo->function_table, MODULE_PERSISTENT);
    zend_declare_class_constant_long(ce_pdo, ZEND_STRL("ATTR_POOL_ENABLED"), ATTR_POOL_ENABLED);
    zend_declare_class_constant_long(ce_pdo, ZEND_STRL("ATTR_POOL_MIN"), ATTR_POOL_MIN);
    zend_declare_class_constant_long(ce_pdo, ZEND_STRL("ATTR_POOL_MAX"), ATTR_POOL_MAX);
    zend_declare_class_constant_long(ce_pdo, ZEND_STRL("ATTR_POOL_HEALTHCHECK_INTERVAL"), ATTR_POOL_HEALTHCHECK_INTERVAL);
    zend_hash_init(&helpers, 4, NULL, NULL, 1);
    /* methods of Async\Pool's scope (a closure of a free function drops
     * its $this), kept out of its function table */
    zend_register_functions(ce_async_pool, helper_entries, &helpers, MODULE_PERSISTENT);
    ta_db_guard_set_pool_hooks((ta_db_pool_hooks) { pool_redirect, coro_ended });
}
