/* One owner at a time for a database connection that coroutines share.
 *
 * mysqlnd talks through PHP streams, which yield inside coroutines: without
 * this, coroutine B sends its statement while A still waits for its answer
 * on the same socket ("Commands out of sync", error 2014), and B's
 * statements land in A's transaction. So every method of PDO, PDOStatement,
 * mysqli, mysqli_stmt, mysqli_result and every mysqli_* function is
 * wrapped: the call takes its connection's guard (waiting, as a coroutine,
 * behind earlier callers while another coroutine holds it), runs, and gives
 * the guard up unless it left something open that belongs to it: a
 * transaction (the driver's own view, so one begun with raw SQL counts on
 * MySQL) or a result still to be read. A coroutine that ends holding a
 * guard gets its transaction rolled back, with a warning naming its
 * request. A transaction's handle belongs to the coroutine that began it:
 * a child coroutine that uses it waits until the parent commits. */
#include "php_db_guard.h"
#include "php_db_cancel.h"
#include "coro_turn.h"
#include "php_http_api.h"
#include "ta_log.h"

#include <zend_extensions.h>
#include <ext/pdo/php_pdo_driver.h>
#include <ext/mysqlnd/mysqlnd.h>
#include <ext/mysqli/php_mysqli_structs.h>

/* One connection: a pdo_dbh_t (several PDO objects may share a persistent
 * one) or a mysqlnd connection (mysqli's link, statements and results). */
typedef struct {
    const void *key;
    zend_object *pdo;           /* PDO: the object the call came through (Redis: the object) */
    pdo_dbh_t *dbh;
    MYSQLND_CONN_DATA *conn;    /* mysqli, and pdo_mysql's (not held) */
    const ta_db_conn_ops *ops;  /* a connection below PHP (libpq), or Redis */
} db_conn;

typedef struct {
    db_conn c;
    ta_coro *holder;
    uint32_t depth;             /* the holder's calls in progress */
    bool marked;                /* held across calls by the holder's own choice (Redis MULTI) */
    ta_turn_queue queue;        /* waiters, first come first served */
    ta_turn_waiter *handover;   /* the holder's, granted it but not yet back from its wait */
    bool gone;                  /* the connection was freed while its holder was inside a call */
} db_guard;

/* Held or awaited guards of this thread only: a free one is dropped, so a
 * freed connection's address never finds a stale entry. */
static __thread HashTable *tl_guards;
static int res_handle = -1;
static ta_db_pool_hooks pool_hooks;
static zend_class_entry *ce_pdo, *ce_stmt, *ce_link, *ce_mstmt, *ce_result, *ce_redis;

void ta_db_guard_set_pool_hooks(ta_db_pool_hooks hooks) { pool_hooks = hooks; }

void ta_db_guard_rinit(void)
{
    tl_guards = NULL;
    ta_db_cancel_rinit();
}

void ta_db_guard_run_end(void)
{
    if (!tl_guards) return;
    db_guard *g;
    ZEND_HASH_FOREACH_PTR(tl_guards, g) {
        ta_turn_abandon(&g->queue);
        if (g->handover) g->handover->state = TA_TURN_REFUSED;
        g->handover = NULL;
    } ZEND_HASH_FOREACH_END();
}

zif_handler ta_db_guard_orig(zend_execute_data *execute_data)
{
    return (zif_handler) EX(func)->internal_function.reserved[res_handle];
}

/* ---- which connection, and what is open on it ---------------------------- */

/* pdo_mysql's handle starts with its MYSQLND *; no other driver's is read. */
static MYSQLND_CONN_DATA *pdo_mysqlnd(pdo_dbh_t *dbh)
{
    if (!dbh->driver || strcmp(dbh->driver->driver_name, "mysql") != 0) return NULL;
    MYSQLND *m = *(MYSQLND **) dbh->driver_data;
    return m ? m->data : NULL;
}

static bool pdo_conn(zend_object *obj, db_conn *c)
{
    pdo_dbh_t *dbh = php_pdo_dbh_fetch_inner(obj);
    if (!dbh || !dbh->driver_data || !dbh->methods) return false;
    *c = (db_conn) { .key = dbh, .pdo = obj, .dbh = dbh, .conn = pdo_mysqlnd(dbh) };
    return true;
}

static bool mysqli_conn(zend_object *obj, db_conn *c)
{
    MYSQLI_RESOURCE *r = php_mysqli_fetch_object(obj)->ptr;
    MYSQLND_CONN_DATA *conn = NULL;
    if (!r || !r->ptr) return false;
    if (instanceof_function(obj->ce, ce_link)) {
        MY_MYSQL *m = r->ptr;
        conn = m->mysql ? m->mysql->data : NULL;
    } else if (instanceof_function(obj->ce, ce_mstmt)) {
        MY_STMT *s = r->ptr;
        conn = s->stmt && s->stmt->data ? s->stmt->data->conn : NULL;
    } else {
        MYSQLND_RES *res = r->ptr;
        conn = res->unbuf ? res->conn : NULL;      /* a stored result needs no connection */
    }
    if (!conn) return false;
    *c = (db_conn) { .key = conn, .conn = conn };
    return true;
}

/* phpredis: MULTI and pipeline() keep the object held until EXEC or
 * DISCARD; every other command holds it for its call. */
static bool redis_after(zend_execute_data *call, zval *ret, bool marked)
{
    zend_string *name = call->func->common.function_name;
    if (zend_string_equals_literal_ci(name, "multi") || zend_string_equals_literal_ci(name, "pipeline"))
        return marked || Z_TYPE_P(ret) == IS_OBJECT;
    if (zend_string_equals_literal_ci(name, "exec") || zend_string_equals_literal_ci(name, "discard")
        || zend_string_equals_literal_ci(name, "close"))
        return false;
    return marked;
}

static void redis_discard(const void *key)
{
    zend_object *obj = (zend_object *) key;
    zval rv;
    ZVAL_UNDEF(&rv);
    zend_call_method_with_0_params(obj, obj->ce, NULL, "discard", &rv);
    zval_ptr_dtor(&rv);
}

static const ta_db_conn_ops redis_ops = { NULL, NULL, redis_discard, redis_after };

static bool conn_of_obj(zend_object *obj, db_conn *c)
{
    if (ce_redis && instanceof_function(obj->ce, ce_redis)) {
        *c = (db_conn) { .key = obj, .pdo = obj, .ops = &redis_ops };
        return true;
    }
    if (ce_pdo && instanceof_function(obj->ce, ce_pdo)) return pdo_conn(obj, c);
    if (ce_stmt && instanceof_function(obj->ce, ce_stmt)) {
        pdo_stmt_t *st = php_pdo_stmt_fetch_object(obj);
        return Z_TYPE(st->database_object_handle) == IS_OBJECT && pdo_conn(Z_OBJ(st->database_object_handle), c);
    }
    if (ce_link && (instanceof_function(obj->ce, ce_link) || instanceof_function(obj->ce, ce_mstmt)
                    || instanceof_function(obj->ce, ce_result)))
        return mysqli_conn(obj, c);
    return false;
}

/* $this, or for mysqli_* functions (and new mysqli_stmt($link), new
 * mysqli_result($link)) the first argument. */
static bool conn_of_call(zend_execute_data *execute_data, db_conn *c)
{
    if (Z_TYPE(EX(This)) == IS_OBJECT) {
        zend_object *t = Z_OBJ(EX(This));
        if (conn_of_obj(t, c)) return true;
        if (!ce_link || !(instanceof_function(t->ce, ce_mstmt) || instanceof_function(t->ce, ce_result))) return false;
    }
    if (ZEND_CALL_NUM_ARGS(execute_data) < 1) return false;
    zval *a = ZEND_CALL_ARG(execute_data, 1);
    ZVAL_DEREF(a);
    return Z_TYPE_P(a) == IS_OBJECT && conn_of_obj(Z_OBJ_P(a), c);
}

static int mysqlnd_state(MYSQLND_CONN_DATA *conn) { return conn->state.m->get(&conn->state); }

/* A statement was sent whose answer is not all read. */
static bool mysqlnd_pending(MYSQLND_CONN_DATA *conn)
{
    int st = mysqlnd_state(conn);
    return st == CONN_QUERY_SENT || st == CONN_SENDING_LOAD_DATA || st == CONN_FETCHING_DATA
           || st == CONN_NEXT_RESULT_PENDING;
}

static bool mysqlnd_in_trans(MYSQLND_CONN_DATA *conn)
{
    int st = mysqlnd_state(conn);
    return st != CONN_QUIT_SENT && st != CONN_ALLOCED && (conn->upsert_status->server_status & SERVER_STATUS_IN_TRANS);
}

static bool pdo_in_txn(pdo_dbh_t *dbh)
{
    if (!dbh->driver_data || !dbh->methods) return false;
    return dbh->methods->in_transaction ? dbh->methods->in_transaction(dbh) : dbh->in_txn;
}

static bool in_txn(const db_conn *c)
{
    if (c->ops) return c->ops->in_txn && c->ops->in_txn(c->key);
    return c->dbh ? pdo_in_txn(c->dbh) : mysqlnd_in_trans(c->conn);
}

static bool pending(const db_conn *c)
{
    if (c->ops) return c->ops->pending && c->ops->pending(c->key);
    return c->conn && mysqlnd_pending(c->conn);
}

/* Something on the connection belongs to its holder still. */
static bool conn_open(const db_conn *c)
{
    if (c->dbh && (!c->dbh->driver_data || !c->dbh->methods)) return false;
    return pending(c) || in_txn(c);
}

static bool guard_open(const db_guard *g) { return g->marked || conn_open(&g->c); }

bool ta_db_pdo_busy(zend_object *pdo)
{
    db_conn c;
    return pdo_conn(pdo, &c) && conn_open(&c);
}

bool ta_db_pdo_broken(zend_object *pdo, bool always)
{
    db_conn c;
    if (!pdo_conn(pdo, &c)) return true;
    if (c.conn && mysqlnd_state(c.conn) == CONN_QUIT_SENT) return true;
    bool doubt = always || strcmp(c.dbh->error_code, PDO_ERR_NONE) != 0 || (c.conn && c.conn->error_info->error_no);
    return doubt && c.dbh->methods->check_liveness && c.dbh->methods->check_liveness(c.dbh) == FAILURE;
}

/* ---- the guards ------------------------------------------------------------ */

static zend_ulong key_of(const void *key) { return (zend_ulong) (uintptr_t) key; }

static db_guard *guard_find(const void *key)
{
    return tl_guards ? zend_hash_index_find_ptr(tl_guards, key_of(key)) : NULL;
}

static db_guard *guard_new(const db_conn *c)
{
    if (!tl_guards) {
        ALLOC_HASHTABLE(tl_guards);
        zend_hash_init(tl_guards, 8, NULL, NULL, 0);
    }
    db_guard *g = ecalloc(1, sizeof *g);
    g->c = *c;
    /* the connection lives while it is held or awaited (libpq's: until
     * PQfinish, which forgets its guard) */
    if (c->pdo) GC_ADDREF(c->pdo);
    else if (c->conn) c->conn->m->get_reference(c->conn);
    zend_hash_index_add_new_ptr(tl_guards, key_of(c->key), g);
    return g;
}

static void guard_drop(db_guard *g)
{
    if (!g->gone) zend_hash_index_del(tl_guards, key_of(g->c.key));
    db_conn c = g->c;
    efree(g);
    if (c.pdo) OBJ_RELEASE(c.pdo);
    else if (c.conn) c.conn->m->free_reference(c.conn);
}

/* The next waiter holds it now (woken), or nobody does and it goes. */
static void guard_release(db_guard *g)
{
    if (g->holder && g->c.conn) ta_db_cancel_released(g->c.conn, g->holder);
    g->holder = NULL;
    g->handover = NULL;
    g->depth = 0;
    g->marked = false;
    ta_turn_waiter *next = ta_turn_first(&g->queue);
    if (!next) { guard_drop(g); return; }
    g->holder = next->co;
    g->handover = next;
    ta_turn_grant(next);
}

/* The guard for co (NULL: cancelled while waiting, its exception pending,
 * or the connection closed meanwhile: *gone). A waiter the queue let go
 * reads the guard again only if granted, being its holder then: a client
 * gone cancels the holder and every waiter of its requests in one go, and
 * the guard may be freed before a cancelled waiter runs (when the waiter
 * dropped it a second time, a shared PDO went while the worker used it). */
static db_guard *guard_take(const db_conn *c, ta_coro *co, bool *gone)
{
    db_guard *g = guard_find(c->key);
    if (!g) g = guard_new(c);
    if (!g->holder) g->holder = co;
    if (g->holder == co) return g;
    ta_turn_waiter w;
    ta_turn_join(&g->queue, &w, co, co);
    bool cancelled = ta_turn_await(&w) == FAILURE;
    if (w.state == TA_TURN_GRANTED) {
        g->handover = NULL;
        if (!cancelled) return g;
        guard_release(g);       /* handed over just as the cancellation came: pass it on */
    }
    *gone = !cancelled;
    return NULL;
}

static void guarded(const db_conn *c, zif_handler orig, INTERNAL_FUNCTION_PARAMETERS)
{
    ta_coro *co = ta_coro_current();
    if (!co) { orig(INTERNAL_FUNCTION_PARAM_PASSTHRU); return; }
    bool gone = false;
    db_guard *g = guard_take(c, co, &gone);
    if (!g) return;
    g->depth++;
    /* a shared MySQL connection: co's cancellation waits for the answer */
    int shared = ta_db_cancel_enter(c->conn, co);
    if (shared >= 0) orig(INTERNAL_FUNCTION_PARAM_PASSTHRU);
    if (shared > 0) ta_db_cancel_leave(c->conn, co, return_value);
    if (c->ops && c->ops->after) g->marked = c->ops->after(execute_data, return_value, g->marked);
    if (--g->depth) return;
    if (g->gone) guard_drop(g);
    else if (g->holder == co && !guard_open(g)) guard_release(g);
}

/* ---- connections below PHP (libpq) ----------------------------------------- */

int ta_db_guard_enter(const void *key, const ta_db_conn_ops *ops)
{
    ta_coro *co = ta_coro_current();
    if (!co || res_handle < 0) return 0;
    db_conn c = { .key = key, .ops = ops };
    bool gone = false;
    db_guard *g = guard_take(&c, co, &gone);
    if (!g) return gone ? -2 : -1;
    g->depth++;
    return 0;
}

void ta_db_guard_leave(const void *key)
{
    ta_coro *co = ta_coro_current();
    db_guard *g = co ? guard_find(key) : NULL;
    if (!g || g->holder != co || !g->depth) return;
    if (--g->depth == 0 && !guard_open(g)) guard_release(g);
}

void ta_db_guard_forget(const void *key)
{
    db_guard *g = guard_find(key);
    if (!g) return;
    /* each waiter, and one handed the guard, sees it refused and leaves */
    ta_turn_refuse_all(&g->queue);
    if (g->handover) g->handover->state = TA_TURN_REFUSED;
    g->handover = NULL;
    if (!g->depth) { guard_drop(g); return; }
    /* its holder is inside a call on it (a ROLLBACK as its coroutine ends):
     * it frees the guard as it comes out (freed now, the holder would
     * release it, and free it, a second time) */
    zend_hash_index_del(tl_guards, key_of(key));
    g->gone = true;
}

void ta_db_guard_call_pdo(zif_handler orig, INTERNAL_FUNCTION_PARAMETERS)
{
    db_conn c;
    if (Z_TYPE(EX(This)) == IS_OBJECT && conn_of_obj(Z_OBJ(EX(This)), &c)) guarded(&c, orig, INTERNAL_FUNCTION_PARAM_PASSTHRU);
    else orig(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

void ta_db_guard_forget_pdo(zend_object *pdo, ta_coro *co)
{
    db_guard *g = guard_find(php_pdo_dbh_fetch_inner(pdo));
    if (g && g->holder == co) guard_release(g);
}

static ZEND_NAMED_FUNCTION(db_guard_handler)
{
    zif_handler orig = ta_db_guard_orig(execute_data);
    if (pool_hooks.redirect && pool_hooks.redirect(orig, INTERNAL_FUNCTION_PARAM_PASSTHRU)) return;
    db_conn c;
    if (!ta_coro_current() || !conn_of_call(execute_data, &c)) { orig(INTERNAL_FUNCTION_PARAM_PASSTHRU); return; }
    guarded(&c, orig, INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

/* ---- a coroutine ends holding a connection --------------------------------- */

static void rollback(const db_conn *c)
{
    if (c->ops) {
        if (c->ops->rollback) c->ops->rollback(c->key);
    } else if (c->dbh) {
        if (c->dbh->methods->rollback) c->dbh->methods->rollback(c->dbh);
        c->dbh->in_txn = false;
    } else {
        c->conn->m->tx_commit_or_rollback(c->conn, FALSE, TRANS_COR_NO_OPT, NULL);
    }
    if (EG(exception)) zend_clear_exception();
}

static void end_hold(db_guard *g, ta_coro *co)
{
    bool txn = in_txn(&g->c) || g->marked, busy = pending(&g->c);
    if (txn || busy) {
        ta_exchange *ex = ta_http_coro_exchange(co);
        ta_log(TA_LOG_WARNING, TA_LOGNO(00865) "%s%s%s ended holding a database connection shared by the "
               "thread's coroutines, with %s: %s, connection released",
               ex ? ex->req.method : "a coroutine of no request", ex ? " " : "", ex ? ex->req.uri : "",
               txn ? "a transaction open" : "a result not read", txn && !busy ? "rolled back" : "left as it is");
        g->depth++;   /* a rollback through a wrapped call must not release it */
        if (txn && !busy) rollback(&g->c);
        g->depth--;
    }
    /* freed meanwhile (its calls' leave no longer finds it): the last user */
    if (g->gone) { guard_drop(g); return; }
    if (g->holder == co) guard_release(g);
}

static void coro_ended(ta_coro *co)
{
    ta_db_cancel_forget(co);
    if (pool_hooks.ended) pool_hooks.ended(co);
    /* one at a time: a rollback may wait, and the table change meanwhile */
    for (db_guard *mine = (db_guard *) 1; mine && tl_guards;) {
        db_guard *g;
        mine = NULL;
        ZEND_HASH_FOREACH_PTR(tl_guards, g) {
            if (g->holder == co) { mine = g; break; }
        } ZEND_HASH_FOREACH_END();
        if (mine) end_hold(mine, co);
    }
}

/* ---- installing the wrappers ------------------------------------------------ */

static void wrap(zend_function *fn)
{
    if (fn->type != ZEND_INTERNAL_FUNCTION || fn->internal_function.handler == db_guard_handler
        || (fn->common.fn_flags & ZEND_ACC_STATIC)) return;
    fn->internal_function.reserved[res_handle] = (void *) fn->internal_function.handler;
    fn->internal_function.handler = db_guard_handler;
}

static zend_class_entry *wrap_class(const char *lc_name, const char *skip)
{
    zend_class_entry *ce = zend_hash_str_find_ptr(CG(class_table), lc_name, strlen(lc_name));
    if (!ce) return NULL;
    zend_string *name;
    zend_function *fn;
    ZEND_HASH_FOREACH_STR_KEY_PTR(&ce->function_table, name, fn) {
        if (!skip || !zend_string_equals_cstr(name, skip, strlen(skip))) wrap(fn);
    } ZEND_HASH_FOREACH_END();
    return ce;
}

void ta_db_guard_install(void)
{
    if (res_handle < 0) res_handle = zend_get_resource_handle("trueasync db guard");
    if (res_handle < 0) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00866) "no engine slot left for database handle guards: shared PDO and mysqli "
               "handles are not guarded");
        return;
    }
    ce_pdo = wrap_class("pdo", "__construct");      /* the pool wraps that one */
    ce_stmt = wrap_class("pdostatement", NULL);
    ce_link = wrap_class("mysqli", NULL);
    ce_mstmt = wrap_class("mysqli_stmt", NULL);
    ce_result = wrap_class("mysqli_result", NULL);
    ce_redis = wrap_class("redis", "__construct");
    if (!ce_link || !ce_mstmt || !ce_result) ce_link = ce_mstmt = ce_result = NULL;
    else {
        zend_string *name;
        zend_function *fn;
        ZEND_HASH_FOREACH_STR_KEY_PTR(CG(function_table), name, fn) {
            if (name && ZSTR_LEN(name) > 7 && !memcmp(ZSTR_VAL(name), "mysqli_", 7)) wrap(fn);
        } ZEND_HASH_FOREACH_END();
    }
    ta_sched_set_release_hook(coro_ended);
    ta_db_cancel_install();
}
