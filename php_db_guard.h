/* Database handles shared by the coroutines of a PHP thread (a PDO or
 * mysqli made when the worker booted): one coroutine at a time owns the
 * connection, for one call, or for as long as it leaves something open on
 * it (a transaction, an unread result); the others wait, as coroutines, in
 * arrival order. Outside coroutines PHP behaves as its own. */
#ifndef TA_PHP_DB_GUARD_H
#define TA_PHP_DB_GUARD_H

#include "php_common.h"
#include "scheduler.h"

/* From MINIT, after pdo and mysqli started: wraps the methods of PDO,
 * PDOStatement, mysqli, mysqli_stmt, mysqli_result and the mysqli_*
 * functions, and takes the scheduler's end hook. */
void ta_db_guard_install(void);
/* At each boot of a worker (RINIT): the thread's guards start empty. */
void ta_db_guard_rinit(void);
/* A run ends (ta_module_run_end): waiters let go unwoken. */
void ta_db_guard_run_end(void);

/* The original handler of a wrapped function (EX(func)). */
zif_handler ta_db_guard_orig(zend_execute_data *execute_data);

/* Calls orig on the call's PDO object holding the guard of its connection
 * (the object may have been swapped into EX(This) by the caller). */
void ta_db_guard_call_pdo(zif_handler orig, INTERNAL_FUNCTION_PARAMETERS);

/* The coroutine gives up the hold it keeps on a PDO connection without
 * rolling anything back (the pool did). */
void ta_db_guard_forget_pdo(zend_object *pdo, ta_coro *co);

/* A PDO connection has a transaction or an unread result open. */
bool ta_db_pdo_busy(zend_object *pdo);
/* A PDO connection is closed or gone (ping: ask the server when in doubt,
 * i.e. after an error, or always when `always`). */
bool ta_db_pdo_broken(zend_object *pdo, bool always);

/* A connection the guard cannot see through PHP's objects (libpq's PGconn,
 * a Redis object): what is open on it, and how to roll it back. */
typedef struct ta_db_conn_ops {
    bool (*in_txn)(const void *key);    /* a transaction is open */
    bool (*pending)(const void *key);   /* a query or COPY is still running */
    void (*rollback)(const void *key);  /* a coroutine ended holding it in a transaction */
    /* methods wrapped in PHP: whether the call leaves the connection held
     * by its caller (MULTI), given that it was (marked) */
    bool (*after)(zend_execute_data *call, zval *ret, bool marked);
} ta_db_conn_ops;

/* Around one call on key (inside a coroutine; elsewhere they do nothing):
 * enter waits for the guard: 0 held, -1 cancelled while waiting (its
 * exception pending), -2 the connection was closed meanwhile. leave gives
 * it up unless ops say something stays open. */
int ta_db_guard_enter(const void *key, const ta_db_conn_ops *ops);
void ta_db_guard_leave(const void *key);
/* key's connection is closing: its waiters get -2. */
void ta_db_guard_forget(const void *key);

/* The PDO pool's part, set by php_pdo_pool.c: redirect() handles a call
 * on a pool facade (true) or declines (false); ended() runs first when a
 * coroutine ends. */
typedef struct ta_db_pool_hooks {
    bool (*redirect)(zif_handler orig, INTERNAL_FUNCTION_PARAMETERS);
    void (*ended)(ta_coro *co);
} ta_db_pool_hooks;
void ta_db_guard_set_pool_hooks(ta_db_pool_hooks hooks);

#endif
