/* KILL QUERY for a MySQL connection's running statement, sent over a
 * second, short-lived connection made with the same credentials, from a
 * coroutine of its own: mysqlnd connects through PHP streams, which yield
 * in coroutines, so the PHP thread serves its other requests meanwhile.
 * What php_db_cancel.c does when a cancelled coroutine's statement on a
 * shared connection outlasts its bound (PostgreSQL's PQcancel, for MySQL).
 * PHP thread only. */
#ifndef TA_PHP_DB_KILL_H
#define TA_PHP_DB_KILL_H

#include "php_common.h"

#include <ext/mysqlnd/mysqlnd.h>

/* How long the KILL QUERY's own connection may take, each of its connect
 * and its query (mysqlnd's timeouts on it, in seconds). */
#define TA_DB_KILL_TIMEOUT_S 2

typedef struct ta_db_kill ta_db_kill;
/* The outcome, once: error NULL when the server took the KILL QUERY, else
 * why it could not be sent (connect refused, no privilege, timed out). */
typedef void (*ta_db_kill_done_fn)(void *data, const char *error);

/* From MINIT, mysqlnd present: finds mysqlnd's connect (false: none). */
bool ta_db_kill_install(void);
/* Starts a KILL QUERY for conn's statement (conn->thread_id), in a new
 * coroutine of the current scheduler; done(data, ...) comes later, never
 * from inside this call. NULL when it could not start. */
ta_db_kill *ta_db_kill_start(MYSQLND_CONN_DATA *conn, ta_db_kill_done_fn done, void *data);
/* The asker goes: done is not called; a KILL QUERY not yet sent is not
 * sent, the coroutine is cancelled and closes its connection. */
void ta_db_kill_drop(ta_db_kill *k);

#endif
