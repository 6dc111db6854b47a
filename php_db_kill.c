/* KILL QUERY over a second, short-lived MySQL connection (php_db_kill.h).
 *
 * The server ends the statement it kills with ER_QUERY_INTERRUPTED (1317;
 * MySQL's lone SLEEP() returns 1 instead), and the killed connection stays
 * in step: its holder reads that end as any other. The connection for the KILL is made
 * with the first one's host, port or socket, user and password, without
 * its TLS options; mysqlnd connects through PHP streams, which yield in
 * coroutines, so it runs in a coroutine of its own (an internal function
 * called through a closure, as Async\Coroutine's runner is). It is closed
 * as soon as the KILL's answer came. */
#include "php_db_kill.h"
#include "scheduler.h"

#include <dlfcn.h>
#include <zend_closures.h>

typedef MYSQLND *(*conn_init_fn)(const size_t, const bool, MYSQLND_CLASS_METHODS_TYPE(mysqlnd_object_factory) *);

struct ta_db_kill {
    ta_db_kill_done_fn done;    /* NULL once the asker went */
    void *data;
    ta_coro *co;                /* the coroutine sending it, until it ended */
    char *host, *sock, *user, *pass;
    size_t pass_len;
    unsigned port;
    uint64_t thread_id;
    char error[256];            /* empty: the server took it */
};

static conn_init_fn conn_init;
static zend_internal_function kill_fn;

static char *dup_or_null(const MYSQLND_STRING *s) { return s->s && s->l ? estrndup(s->s, s->l) : NULL; }

static void kill_free(ta_db_kill *k)
{
    if (k->host) efree(k->host);
    if (k->sock) efree(k->sock);
    if (k->user) efree(k->user);
    if (k->pass) efree(k->pass);
    efree(k);
}

static void set_error(ta_db_kill *k, const char *what, MYSQLND *m)
{
    if (k->error[0]) return;
    const char *err = m ? mysqlnd_error(m) : NULL;
    snprintf(k->error, sizeof k->error, "%s%s%s", what, err && err[0] ? ": " : "", err && err[0] ? err : "");
}

/* Connects; sends the KILL unless the asker went meanwhile. */
static void kill_send(ta_db_kill *k, MYSQLND *m)
{
    unsigned int t = TA_DB_KILL_TIMEOUT_S;
    mysqlnd_options(m, MYSQL_OPT_CONNECT_TIMEOUT, (const char *) &t);
    mysqlnd_options(m, MYSQL_OPT_READ_TIMEOUT, (const char *) &t);
    mysqlnd_options(m, MYSQL_OPT_WRITE_TIMEOUT, (const char *) &t);
    MYSQLND_CSTRING host = { k->host, k->host ? strlen(k->host) : 0 };
    MYSQLND_CSTRING user = { k->user ? k->user : "", k->user ? strlen(k->user) : 0 };
    MYSQLND_CSTRING pass = { k->pass ? k->pass : "", k->pass_len };
    MYSQLND_CSTRING db = { NULL, 0 };
    MYSQLND_CSTRING sock = { k->sock, k->sock ? strlen(k->sock) : 0 };
    if (m->m->connect(m, host, user, pass, db, k->port, sock, 0) == FAIL) {
        set_error(k, "the connection for it failed", m);
        return;
    }
    if (!k->done) return;
    char sql[48];
    int n = snprintf(sql, sizeof sql, "KILL QUERY %" PRIu64, k->thread_id);
    if (mysqlnd_query(m, sql, (size_t) n) == FAIL) set_error(k, "the server refused it", m);
}

/* The coroutine's body: kill_fn's handler, its one argument the kill. */
static ZEND_NAMED_FUNCTION(kill_run)
{
    ta_db_kill *k = (ta_db_kill *) (uintptr_t) Z_LVAL_P(ZEND_CALL_ARG(execute_data, 1));
    RETVAL_NULL();
    MYSQLND *m = conn_init(MYSQLND_CLIENT_NO_FLAG, false, NULL);
    if (!m) { set_error(k, "no memory for its connection", NULL); return; }
    kill_send(k, m);
    if (EG(exception)) {        /* cancelled (the asker went, or the worker stops) */
        set_error(k, "cancelled", NULL);
        zend_clear_exception();
    }
    mysqlnd_close(m, MYSQLND_CLOSE_EXPLICIT);
    if (EG(exception)) zend_clear_exception();
}

/* The coroutine ended (also when cancelled before it ever ran). */
static void kill_ended(ta_coro *co, zend_object *uncaught)
{
    (void) uncaught;
    ta_db_kill *k = co->done_data;
    k->co = NULL;
    if (k->done) {
        if (!k->error[0] && uncaught) set_error(k, "cancelled", NULL);
        k->done(k->data, k->error[0] ? k->error : NULL);
    }
    kill_free(k);
}

ta_db_kill *ta_db_kill_start(MYSQLND_CONN_DATA *conn, ta_db_kill_done_fn done, void *data)
{
    ta_sched *s = ta_sched_current;
    if (!conn_init || !s || !conn->thread_id) return NULL;
    ta_db_kill *k = ecalloc(1, sizeof *k);
    k->done = done;
    k->data = data;
    k->host = dup_or_null(&conn->hostname);
    k->sock = dup_or_null(&conn->unix_socket);
    k->user = dup_or_null(&conn->username);
    k->pass = dup_or_null(&conn->password);
    k->pass_len = k->pass ? conn->password.l : 0;
    k->port = conn->port;
    k->thread_id = conn->thread_id;
    zval fn, arg;
    zend_create_fake_closure(&fn, (zend_function *) &kill_fn, NULL, NULL, NULL);
    ZVAL_LONG(&arg, (zend_long) (uintptr_t) k);
    ta_in_flight aside = ta_in_flight_aside();      /* a timer's callback, maybe while a stack unwinds */
    k->co = ta_sched_spawn(s, &fn, 1, &arg, NULL, kill_ended);
    zval_ptr_dtor(&fn);
    if (EG(exception)) zend_clear_exception();
    ta_in_flight_back(aside);
    if (!k->co) { kill_free(k); return NULL; }
    k->co->done_data = k;
    return k;
}

void ta_db_kill_drop(ta_db_kill *k)
{
    k->done = NULL;
    if (k->co) ta_coro_cancel(k->co, NULL, "the KILL QUERY is no longer needed");
}

bool ta_db_kill_install(void)
{
    conn_init = (conn_init_fn) dlsym(RTLD_DEFAULT, "mysqlnd_connection_init");
    if (!conn_init) return false;
    kill_fn.type = ZEND_INTERNAL_FUNCTION;
    kill_fn.function_name = zend_string_init_interned("mod_trueasync kill query", 24, 1);
    /* no declared argument: none is read as by-reference (no arg_info) */
    kill_fn.handler = kill_run;
    ZEND_MAP_PTR_INIT(kill_fn.run_time_cache, NULL);
    return true;
}
