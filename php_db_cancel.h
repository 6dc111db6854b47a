/* A coroutine cancelled in the middle of a statement on a MySQL
 * connection (pdo_mysql, mysqli) that the thread's requests share: the
 * connection's socket I/O runs to its end first, so the connection stays
 * in step for the others, and the cancellation comes when the call
 * returns; a statement that goes on too long after the cancellation is
 * killed on the server (KILL QUERY), and cut as before only if that fails.
 * A connection its own request made is cancelled at once. PHP thread
 * only. */
#ifndef TA_PHP_DB_CANCEL_H
#define TA_PHP_DB_CANCEL_H

#include "php_common.h"
#include "scheduler.h"

#include <ext/mysqlnd/mysqlnd.h>

/* How long a cancelled coroutine's statement may still run on a shared
 * connection when its request has no TrueAsyncRequestTimeout (with one:
 * as long again). */
#define TA_DB_CANCEL_GRACE_MS 10000
/* Then, how long the statement may still take to end once KILL QUERY was
 * sent for it (its connect and answer included) before it is cut: a
 * killed statement ends at once, unless the server is stuck itself. */
#define TA_DB_KILL_GRACE_MS 2000

/* From MINIT, after mysqlnd started: a mysqlnd plugin, so that each
 * connection knows the request that connected it; takes the scheduler's
 * protected-cancel hook and the socket streams' I/O hooks. */
void ta_db_cancel_install(void);
/* At each boot of a worker (RINIT): nothing held. */
void ta_db_cancel_rinit(void);

/* Before co's call on conn (NULL: not MySQL), conn's guard held: 1 when
 * the connection is shared (its socket I/O is co's to finish from now
 * until ta_db_cancel_released()), 0 when it is not, -1 when co's
 * cancellation is pending already (thrown now: the call must not run). */
int ta_db_cancel_enter(MYSQLND_CONN_DATA *conn, ta_coro *co);
/* After a call that ta_db_cancel_enter() gave 1: a cancellation that came
 * meanwhile is thrown now, the call's return value (or NULL) dropped. */
void ta_db_cancel_leave(MYSQLND_CONN_DATA *conn, ta_coro *co, zval *return_value);
/* co gave conn's guard up. */
void ta_db_cancel_released(MYSQLND_CONN_DATA *conn, ta_coro *co);
/* co ended (a fatal error may have left it inside a call): all goes. */
void ta_db_cancel_forget(ta_coro *co);

#endif
