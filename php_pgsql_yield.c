/* PostgreSQL yields inside coroutines. libpq does its own socket I/O, and
 * the pgsql and pdo_pgsql extensions call its blocking entry points
 * (PQconnectdb, PQexec, PQgetResult, ...). Those two extensions are shared
 * objects PHP loads with RTLD_DEEPBIND, so no symbol of ours can stand in:
 * their GOT entries for these functions are pointed at the wrappers below
 * instead (elf_got_hook.c). Inside a coroutine a wrapper drives libpq's
 * asynchronous API and waits for its socket on the reactor; anywhere else
 * it is libpq's own call. A coroutine cancelled (or timed out) while a
 * query runs cancels the query on the server and reads its end, so the
 * connection stays usable. A connection that coroutines share (a pgsql
 * link or a PDO made at boot) has one user at a time: php_db_guard.c's
 * guard, keyed by the PGconn, held for a query, a COPY, or a transaction. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "php_common.h"
#include "php_pgsql_yield.h"
#include "coro_wait.h"
#include "php_db_guard.h"
#include "elf_got_hook.h"
#include "reactor_apr.h"
#include "scheduler.h"
#include "ta_async_api.h"
#include "ta_log.h"

#include <dlfcn.h>
#include <libpq-fe.h>

/* libpq, found in the process once an extension has brought it in. */
#define PQ_FUNCS(X)                                                                         \
    X(PGconn *, PQconnectdb, (const char *))                                                \
    X(PGconn *, PQconnectStart, (const char *))                                             \
    X(PostgresPollingStatusType, PQconnectPoll, (PGconn *))                                 \
    X(void, PQreset, (PGconn *))                                                            \
    X(int, PQresetStart, (PGconn *))                                                        \
    X(PostgresPollingStatusType, PQresetPoll, (PGconn *))                                   \
    X(void, PQfinish, (PGconn *))                                                           \
    X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *))                       \
    X(ConnStatusType, PQstatus, (const PGconn *))                                           \
    X(int, PQsocket, (const PGconn *))                                                      \
    X(PGresult *, PQexec, (PGconn *, const char *))                                         \
    X(PGresult *, PQexecParams, (PGconn *, const char *, int, const Oid *,                  \
                                 const char *const *, const int *, const int *, int))       \
    X(PGresult *, PQprepare, (PGconn *, const char *, const char *, int, const Oid *))      \
    X(PGresult *, PQexecPrepared, (PGconn *, const char *, int, const char *const *,        \
                                   const int *, const int *, int))                          \
    X(int, PQsendQuery, (PGconn *, const char *))                                           \
    X(int, PQsendQueryParams, (PGconn *, const char *, int, const Oid *,                    \
                               const char *const *, const int *, const int *, int))         \
    X(int, PQsendPrepare, (PGconn *, const char *, const char *, int, const Oid *))         \
    X(int, PQsendQueryPrepared, (PGconn *, const char *, int, const char *const *,          \
                                 const int *, const int *, int))                            \
    X(PGresult *, PQgetResult, (PGconn *))                                                  \
    X(int, PQgetCopyData, (PGconn *, char **, int))                                         \
    X(int, PQisBusy, (PGconn *))                                                            \
    X(int, PQconsumeInput, (PGconn *))                                                      \
    X(int, PQflush, (PGconn *))                                                             \
    X(int, PQisnonblocking, (const PGconn *))                                               \
    X(int, PQsetnonblocking, (PGconn *, int))                                               \
    X(ExecStatusType, PQresultStatus, (const PGresult *))                                   \
    X(void, PQclear, (PGresult *))                                                          \
    X(PGcancel *, PQgetCancel, (PGconn *))                                                  \
    X(int, PQcancel, (PGcancel *, char *, int))                                             \
    X(void, PQfreeCancel, (PGcancel *))

#define PQ_FIELD(ret, name, args) ret (*name) args;
static struct { PQ_FUNCS(PQ_FIELD) } pq;

static bool yielding(void)
{
    return ta_coro_current() && zend_async_reactor_is_enabled() && ta_reactor_loop();
}

/* Until libpq holds a whole result. -1: the coroutine was cancelled. */
static int wait_not_busy(PGconn *c)
{
    while (pq.PQisBusy(c) && pq.PQsocket(c) >= 0) {
        if (ta_wait_fd(pq.PQsocket(c), ASYNC_READABLE, NULL) < 0) return -1;
        if (!pq.PQconsumeInput(c)) return 0;   /* broken: PQgetResult says so */
    }
    return 0;
}

/* Until the query has left (non-blocking mode). -1: cancelled. */
static int flush_out(PGconn *c)
{
    while (pq.PQflush(c) == 1 && pq.PQsocket(c) >= 0) {
        if (ta_wait_fd(pq.PQsocket(c), ASYNC_READABLE | ASYNC_WRITABLE, NULL) < 0) return -1;
        pq.PQconsumeInput(c);
    }
    return 0;
}

/* The coroutine is gone: the server stops the query. */
static void cancel_on_server(PGconn *c)
{
    char err[256] = "";
    PGcancel *cn = pq.PQgetCancel(c);
    int ok = cn && pq.PQcancel(cn, err, sizeof err);
    if (cn) pq.PQfreeCancel(cn);
    if (ok) ta_log(TA_LOG_INFO, TA_LOGNO(00960) "PostgreSQL query cancelled on the server: its coroutine was cancelled");
    else ta_log(TA_LOG_WARNING, TA_LOGNO(00961) "PostgreSQL query of a cancelled coroutine could not be cancelled on the server: %s", err);
}

/* Results until libpq's NULL, as PQexec keeps them: the last one, or the
 * first COPY state (the caller goes on with the copy). After a cancel the
 * rest is read blocking: the server answers at once. */
static PGresult *collect(PGconn *c)
{
    PGresult *last = NULL, *r;
    bool cancelled = false;
    for (;;) {
        if (!cancelled && wait_not_busy(c) < 0) {
            cancelled = true;
            cancel_on_server(c);
        }
        if (!(r = pq.PQgetResult(c))) break;
        pq.PQclear(last);
        last = r;
        ExecStatusType st = pq.PQresultStatus(r);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH || pq.PQstatus(c) == CONNECTION_BAD)
            break;
    }
    return last;
}

/* What one of the PQexec family sends. */
typedef struct {
    const char *cmd, *name;
    int n, fmt;
    const Oid *types;
    const char *const *values;
    const int *lengths, *formats;
} query_args;

typedef int (*sender)(PGconn *, const query_args *);
typedef PGresult *(*sender_blocking)(PGconn *, const query_args *);

/* PQexec's contract, waiting on the reactor: results left from an earlier
 * asynchronous query are dropped first (a COPY in progress goes to libpq's
 * own call, which reports it). */
static PGresult *exec_yielding(PGconn *c, sender send, sender_blocking blocking, const query_args *a)
{
    PGresult *r;
    for (;;) {
        if (wait_not_busy(c) < 0) {
            cancel_on_server(c);
            while ((r = pq.PQgetResult(c))) pq.PQclear(r);
            return NULL;
        }
        if (!(r = pq.PQgetResult(c))) break;
        ExecStatusType st = pq.PQresultStatus(r);
        pq.PQclear(r);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) return blocking(c, a);
    }
    /* Non-blocking only while the query goes out: switching back clears
     * libpq's error message, which must survive for PHP to report. */
    int was_nb = pq.PQisnonblocking(c);
    if (!was_nb) pq.PQsetnonblocking(c, 1);
    int sent = send(c, a);
    int cancelled = sent && flush_out(c) < 0;
    if (!was_nb) pq.PQsetnonblocking(c, 0);
    /* not sent (busy, broken): libpq's own call fails the same way and
     * leaves its message */
    if (!sent) return blocking(c, a);
    if (cancelled) cancel_on_server(c);
    PGresult *res = collect(c);
    return res;
}

/* ---- the PQexec family -------------------------------------------------- */

static int send_query(PGconn *c, const query_args *a) { return pq.PQsendQuery(c, a->cmd); }
static PGresult *exec_query(PGconn *c, const query_args *a) { return pq.PQexec(c, a->cmd); }

static int send_params(PGconn *c, const query_args *a)
{
    return pq.PQsendQueryParams(c, a->cmd, a->n, a->types, a->values, a->lengths, a->formats, a->fmt);
}
static PGresult *exec_params(PGconn *c, const query_args *a)
{
    return pq.PQexecParams(c, a->cmd, a->n, a->types, a->values, a->lengths, a->formats, a->fmt);
}

static int send_prepare(PGconn *c, const query_args *a) { return pq.PQsendPrepare(c, a->name, a->cmd, a->n, a->types); }
static PGresult *exec_prepare(PGconn *c, const query_args *a) { return pq.PQprepare(c, a->name, a->cmd, a->n, a->types); }

static int send_prepared(PGconn *c, const query_args *a)
{
    return pq.PQsendQueryPrepared(c, a->name, a->n, a->values, a->lengths, a->formats, a->fmt);
}
static PGresult *exec_prepared(PGconn *c, const query_args *a)
{
    return pq.PQexecPrepared(c, a->name, a->n, a->values, a->lengths, a->formats, a->fmt);
}

/* ---- one coroutine at a time on a connection ------------------------------ */

static bool pg_in_txn(const void *key)
{
    PGTransactionStatusType st = pq.PQtransactionStatus(key);
    return st == PQTRANS_INTRANS || st == PQTRANS_INERROR;
}

static bool pg_active(const void *key) { return pq.PQtransactionStatus(key) == PQTRANS_ACTIVE; }

static PGresult *ta_PQexec(PGconn *c, const char *cmd);

static void pg_rollback(const void *key)
{
    pq.PQclear(ta_PQexec((PGconn *) key, "ROLLBACK"));
}

static const ta_db_conn_ops pg_ops = { pg_in_txn, pg_active, pg_rollback, NULL };

static PGresult *run(PGconn *c, sender send, sender_blocking blocking, const query_args *a)
{
    if (!c || !yielding()) return blocking(c, a);
    /* cancelled while waiting, or closed meanwhile: no query, PHP's error */
    if (ta_db_guard_enter(c, &pg_ops) < 0) return NULL;
    PGresult *r = exec_yielding(c, send, blocking, a);
    ta_db_guard_leave(c);
    return r;
}

static PGresult *ta_PQexec(PGconn *c, const char *cmd)
{
    query_args a = { .cmd = cmd };
    return run(c, send_query, exec_query, &a);
}

static PGresult *ta_PQexecParams(PGconn *c, const char *cmd, int n, const Oid *types, const char *const *values,
                                 const int *lengths, const int *formats, int fmt)
{
    query_args a = { .cmd = cmd, .n = n, .types = types, .values = values, .lengths = lengths,
                     .formats = formats, .fmt = fmt };
    return run(c, send_params, exec_params, &a);
}

static PGresult *ta_PQprepare(PGconn *c, const char *name, const char *cmd, int n, const Oid *types)
{
    query_args a = { .name = name, .cmd = cmd, .n = n, .types = types };
    return run(c, send_prepare, exec_prepare, &a);
}

static PGresult *ta_PQexecPrepared(PGconn *c, const char *name, int n, const char *const *values,
                                   const int *lengths, const int *formats, int fmt)
{
    query_args a = { .name = name, .n = n, .values = values, .lengths = lengths, .formats = formats, .fmt = fmt };
    return run(c, send_prepared, exec_prepared, &a);
}

/* pg_get_result(), and the extensions' own loops over results (pg_query()
 * asks for results left over before it sends): on a shared link, only its
 * holder's, or a request would take another's result. */
static PGresult *ta_PQgetResult(PGconn *c)
{
    if (!c || !yielding()) return pq.PQgetResult(c);
    if (ta_db_guard_enter(c, &pg_ops) < 0) return NULL;
    /* cancelled: the rest is read as libpq does (the server answers at once) */
    if (wait_not_busy(c) < 0) cancel_on_server(c);
    PGresult *r = pq.PQgetResult(c);
    ta_db_guard_leave(c);
    return r;
}

/* pg_copy_to(): rows as they come. */
static int ta_PQgetCopyData(PGconn *c, char **buf, int async)
{
    if (async || !c || !yielding()) return pq.PQgetCopyData(c, buf, async);
    for (;;) {
        int n = pq.PQgetCopyData(c, buf, 1);
        if (n != 0) return n;
        if (ta_wait_fd(pq.PQsocket(c), ASYNC_READABLE, NULL) < 0) {
            cancel_on_server(c);
            return pq.PQgetCopyData(c, buf, 0);
        }
        if (!pq.PQconsumeInput(c)) return pq.PQgetCopyData(c, buf, 0);
    }
}

/* ---- connecting ----------------------------------------------------------- */

/* PQconnectPoll's (or PQresetPoll's) dance on the reactor, starting as
 * libpq says with "writing". -1: cancelled. */
static int poll_connection(PGconn *c, PostgresPollingStatusType (*step)(PGconn *))
{
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED && pq.PQsocket(c) >= 0) {
        int ev = st == PGRES_POLLING_READING ? ASYNC_READABLE : ASYNC_WRITABLE;
        if (ta_wait_fd(pq.PQsocket(c), ev, NULL) < 0) return -1;
        st = step(c);
    }
    return 0;
}

static PGconn *ta_PQconnectdb(const char *conninfo)
{
    if (!yielding()) return pq.PQconnectdb(conninfo);
    PGconn *c = pq.PQconnectStart(conninfo);
    if (!c || pq.PQstatus(c) == CONNECTION_BAD) return c;
    if (poll_connection(c, pq.PQconnectPoll) < 0) {
        pq.PQfinish(c);
        return NULL;
    }
    return c;
}

static void ta_PQfinish(PGconn *c)
{
    /* also outside a coroutine (a link freed as a request's state goes):
     * a guard left behind would pass to the next PGconn at that address */
    if (c) ta_db_guard_forget(c);
    pq.PQfinish(c);
}

static void ta_PQreset(PGconn *c)
{
    if (!c || !yielding()) { pq.PQreset(c); return; }
    if (pq.PQresetStart(c)) poll_connection(c, pq.PQresetPoll);
}

/* ---- installing ------------------------------------------------------------ */

void ta_pgsql_yield_install(void)
{
    /* neither pgsql nor pdo_pgsql is loaded: nothing to do */
    void *lib = dlopen("libpq.so.5", RTLD_NOLOAD | RTLD_LAZY);
    if (!lib) return;
#define PQ_RESOLVE(ret, name, args) pq.name = (ret (*) args) dlsym(lib, #name); if (!pq.name) missing = #name;
    const char *missing = NULL;
    PQ_FUNCS(PQ_RESOLVE)
#undef PQ_RESOLVE
    dlclose(lib);   /* the extensions keep it loaded */
    if (missing) {
        ta_log(TA_LOG_WARNING, TA_LOGNO(00962) "libpq has no %s: PostgreSQL queries block their PHP thread", missing);
        return;
    }
    static const ta_got_hook hooks[] = {
        { "PQconnectdb", (void *) ta_PQconnectdb },       { "PQreset", (void *) ta_PQreset },
        { "PQexec", (void *) ta_PQexec },                 { "PQexecParams", (void *) ta_PQexecParams },
        { "PQprepare", (void *) ta_PQprepare },           { "PQexecPrepared", (void *) ta_PQexecPrepared },
        { "PQgetResult", (void *) ta_PQgetResult },       { "PQgetCopyData", (void *) ta_PQgetCopyData },
        { "PQfinish", (void *) ta_PQfinish },
    };
    size_t n = sizeof hooks / sizeof hooks[0];
    int done = ta_got_hook_object("/pgsql.so", hooks, n) + ta_got_hook_object("/pdo_pgsql.so", hooks, n);
    ta_log(TA_LOG_DEBUG, TA_LOGNO(00963) "PostgreSQL: %d libpq calls of pgsql/pdo_pgsql wait on the reactor", done);
}
