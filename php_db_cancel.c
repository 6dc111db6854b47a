/* A coroutine cancelled in the middle of a statement on a MySQL connection
 * that the thread's requests share (a PDO or mysqli made when the worker
 * booted, or by another request).
 *
 * mysqlnd reads a statement's answer through PHP streams, which yield in
 * coroutines. Cancelled there, the read fails and mysqlnd closes the
 * connection, its answer half read. For a connection of the request's own
 * that is what PHP does, and stays so. A shared one was then dead for
 * every later request on the thread (2006 "MySQL server has gone away")
 * until the worker booted again: one client's hang-up broke everyone's
 * requests. So, as php-fpm never interrupts a running query when its
 * client leaves, I/O on a shared connection's socket by the coroutine that
 * holds it runs to its end (the cancellation waits, as inside
 * Async\protect()), and the cancellation is thrown when the call returns;
 * the rest of an unbuffered result is skipped the same way when its
 * statement goes. Only that socket's I/O: the coroutine's other waits stay
 * cancellable. Bounded: a statement still running the request's
 * TrueAsyncRequestTimeout (or TA_DB_CANCEL_GRACE_MS) after the
 * cancellation is killed on the server (KILL QUERY over a second
 * connection, php_db_kill.c; TA00869), as PostgreSQL's are cancelled: its
 * end (ER_QUERY_INTERRUPTED) is read, the connection stays in step, and
 * the error the statement's call got gives way to the cancellation. Cut as
 * before, with a warning (TA00867), only when the KILL cannot be sent or
 * the statement still runs TA_DB_KILL_GRACE_MS after it. The holder gives
 * the connection up only once the KILL's answer came, so that a KILL late
 * on the way cannot hit the next holder's statement.
 *
 * Which request connected a connection is kept in mysqlnd's plugin area of
 * the connection (a word per plugin, allocated and freed with it), written
 * by a wrapper of mysqlnd's connect. */
#include "php_db_cancel.h"
#include "php_db_kill.h"
#include "php_http_api.h"
#include "php_stream_yield.h"
#include "ta_async_api.h"
#include "ta_log.h"

#include <dlfcn.h>
#include <ext/mysqlnd/mysqlnd_ext_plugin.h>

/* A connection's word: its request's number shifted by W_SHIFT (0:
 * connected outside any request), and two flags. */
#define W_LOGGED ((uintptr_t) 1)    /* its closing was logged */
#define W_CUT ((uintptr_t) 2)       /* a cancelled coroutine's statement was cut on it */
#define W_SHIFT 2

static unsigned plugin_id;
static struct st_mysqlnd_plugin__plugin_area_getters *areas;    /* NULL: no mysqlnd */
static MYSQLND_CLASS_METHODS_TYPE(mysqlnd_conn_data) conn_methods;
static func_mysqlnd_conn_data__connect orig_connect;

/* A coroutine holding a shared connection (from its first call on it
 * until it gives the connection's guard up). */
typedef struct bound_cb bound_cb;
typedef struct hold {
    ta_coro *co;
    MYSQLND_CONN_DATA *conn;    /* alive while held (the guard keeps it) */
    uint32_t calls;             /* co's calls on it in progress */
    bool in_io;                 /* inside I/O on its socket: co's cancellation waits */
    bool cut;                   /* the bound passed: its I/O is cancellable again */
    bool killed;                /* a KILL QUERY went for its statement */
    bool kill_wait;             /* co waits for the KILL's answer (in ta_db_cancel_leave) */
    ta_db_kill *kill;           /* the KILL QUERY on its way, until its answer */
    zend_async_event_t *timer;  /* the bound since the cancellation, then the KILL's grace */
    bound_cb *cb;
    struct hold *next;
} hold;

struct bound_cb {
    zend_async_event_callback_t base;
    hold *h;                    /* NULL once it fired or the hold went */
};

static __thread hold *tl_holds;

void ta_db_cancel_rinit(void) { tl_holds = NULL; }

static uintptr_t *word_of(const MYSQLND_CONN_DATA *conn)
{
    return (uintptr_t *) areas->get_connection_data_area(conn, plugin_id);
}

static uintptr_t owner_of(ta_coro *co) { return (uintptr_t) ta_http_coro_request_id(co) << W_SHIFT; }

static enum_func_status owned_connect(MYSQLND_CONN_DATA *conn, MYSQLND_CSTRING host, MYSQLND_CSTRING user,
                                      MYSQLND_CSTRING pass, MYSQLND_CSTRING db, unsigned int port,
                                      MYSQLND_CSTRING sock, unsigned int flags)
{
    enum_func_status rc = orig_connect(conn, host, user, pass, db, port, sock, flags);
    *word_of(conn) = owner_of(ta_coro_current());
    return rc;
}

static int conn_state(MYSQLND_CONN_DATA *conn) { return conn->state.m->get(&conn->state); }

/* Connected, and not by co's own request. */
static bool shared(MYSQLND_CONN_DATA *conn, ta_coro *co)
{
    if (conn_state(conn) == CONN_ALLOCED) return false;     /* nothing to keep in step yet */
    uintptr_t owner = *word_of(conn) & ~(W_LOGGED | W_CUT);
    return !owner || owner != owner_of(co);
}

static void request_of(ta_coro *co, const char **method, const char **uri)
{
    ta_exchange *ex = ta_http_coro_exchange(co);
    *method = ex ? ex->req.method : "a coroutine of no request";
    *uri = ex ? ex->req.uri : "";
}

/* Once per connection, the first time a call on it finds it closed: every
 * request that uses it fails from now on. */
static void note_closed(MYSQLND_CONN_DATA *conn, ta_coro *co)
{
    uintptr_t *w = word_of(conn);
    if ((*w & W_LOGGED) || conn_state(conn) != CONN_QUIT_SENT) return;
    *w |= W_LOGGED;
    const char *method, *uri;
    request_of(co, &method, &uri);
    const char *err = conn->error_info->error[0] ? conn->error_info->error : "no error recorded";
    ta_log(TA_LOG_WARNING, TA_LOGNO(00868) "a MySQL connection shared by the thread's coroutines is closed (%s%s): "
           "%s %s and every later statement on it fail (2006 \"MySQL server has gone away\") until the worker "
           "connects again", (*w & W_CUT) ? "a cancelled request's statement was cut on it, TA00867" : "by the server "
           "or the network: ", (*w & W_CUT) ? "" : err, method, uri);
}

/* ---- the bound ---------------------------------------------------------------- */

static hold *hold_of(ta_coro *co, MYSQLND_CONN_DATA *conn)
{
    for (hold *h = tl_holds; h; h = h->next)
        if (h->co == co && h->conn == conn) return h;
    return NULL;
}

static void bound_stop(hold *h)
{
    if (!h->timer) return;
    h->cb->h = NULL;
    h->timer->stop(h->timer);
    ZEND_ASYNC_EVENT_RELEASE(h->timer);
    h->timer = NULL;
    h->cb = NULL;
}

static zend_string *cancel_message(ta_coro *co)
{
    zend_object *ex = co->throw_in;
    zval rv, *msg = ex ? zend_read_property_ex(zend_get_exception_base(ex), ex, ZSTR_KNOWN(ZEND_STR_MESSAGE), 1, &rv)
                       : NULL;
    return msg && Z_TYPE_P(msg) == IS_STRING ? zend_string_copy(Z_STR_P(msg)) : zend_string_init("cancelled", 9, 0);
}

static unsigned grace_ms(ta_coro *co)
{
    ta_exchange *ex = ta_http_coro_exchange(co);
    return ex && ex->req.timeout_ms ? ex->req.timeout_ms : TA_DB_CANCEL_GRACE_MS;
}

/* The statement still runs and cannot be killed: cut it, as a
 * cancellation did before. `why` ends the log's sentence. */
static void cut(hold *h, const char *why)
{
    h->cut = true;
    *word_of(h->conn) |= W_CUT;
    const char *method, *uri;
    request_of(h->co, &method, &uri);
    zend_string *msg = cancel_message(h->co);
    ta_log(TA_LOG_WARNING, TA_LOGNO(00867) "%s %s was cancelled (%s) while its statement ran on a MySQL connection "
           "shared by the thread's coroutines; the cancellation waited for the statement, which had not ended %u ms "
           "later, and %s: it is cut now, and mysqlnd closes the connection", method, uri, ZSTR_VAL(msg),
           grace_ms(h->co), why);
    zend_string_release(msg);
    if (h->in_io) {
        h->in_io = false;
        ta_coro_unprotect(h->co);
    }
}

static void bound_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *exc);

static void bound_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev)
{
    (void) ev;
    efree(cb);
}

/* h's timer: fires in ms. */
static void timer_arm(hold *h, unsigned ms)
{
    ta_in_flight aside = ta_in_flight_aside();      /* called while a stack unwinds, too */
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT(ms, false);
    if (t) {
        bound_cb *cb = ecalloc(1, sizeof *cb);
        cb->base.callback = bound_fire;
        cb->base.dispose = bound_dispose;
        cb->h = h;
        h->timer = &t->base;
        h->cb = cb;
        t->base.add_callback(&t->base, &cb->base);
        t->base.start(&t->base);
        if (EG(exception)) bound_stop(h);
    }
    if (EG(exception) && !aside.ex) zend_clear_exception();
    ta_in_flight_back(aside);
}

/* The KILL's answer came (error NULL: the server took it). */
static void kill_done(void *data, const char *error)
{
    hold *h = data;
    h->kill = NULL;
    const char *method, *uri;
    request_of(h->co, &method, &uri);
    if (!error) {
        ta_log(TA_LOG_WARNING, TA_LOGNO(00869) "%s %s was cancelled while its statement ran on a MySQL connection "
               "shared by the thread's coroutines; the statement had not ended %u ms later: KILL QUERY %" PRIu64 " "
               "was sent over a second connection, the statement ends with the server's error and the connection "
               "stays in use", method, uri, grace_ms(h->co), h->conn->thread_id);
    } else if (h->in_io && !h->cut) {
        char why[320];
        snprintf(why, sizeof why, "KILL QUERY %" PRIu64 " could not be sent (%s)", h->conn->thread_id, error);
        cut(h, why);
    }
    if (h->kill_wait) ta_coro_wake(h->co);
}

/* The bound passed: the statement is killed on the server, or cut. */
static void bound_passed(hold *h)
{
    if (!h->in_io) {            /* no I/O to let go on: as before */
        cut(h, "no I/O of it was under way");
        return;
    }
    h->kill = ta_db_kill_start(h->conn, kill_done, h);
    if (!h->kill) {
        cut(h, "a KILL QUERY could not be started");
        return;
    }
    h->killed = true;
    timer_arm(h, TA_DB_KILL_GRACE_MS);
}

/* TA_DB_KILL_GRACE_MS after the KILL went: a statement still running is
 * cut, a KILL still on its way is given up. */
static void kill_overdue(hold *h)
{
    if (h->kill) {
        ta_db_kill_drop(h->kill);
        h->kill = NULL;
    }
    if (h->in_io && !h->cut) {
        char why[160];
        snprintf(why, sizeof why, "had not ended %u ms after KILL QUERY %" PRIu64 " either", TA_DB_KILL_GRACE_MS,
                 h->conn->thread_id);
        cut(h, why);
    }
    if (h->kill_wait) ta_coro_wake(h->co);
}

static void bound_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *exc)
{
    (void) result; (void) exc;
    hold *h = ((bound_cb *) cb)->h;
    if (!h) return;
    ((bound_cb *) cb)->h = NULL;
    h->timer = NULL;
    h->cb = NULL;
    ZEND_ASYNC_EVENT_RELEASE(ev);
    if (h->killed) kill_overdue(h);
    else bound_passed(h);
}

/* From the cancellation on, the statement has grace_ms() to end. */
static void bound_start(hold *h)
{
    if (h->cut || h->timer || h->killed) return;
    timer_arm(h, grace_ms(h->co));
}

/* A coroutine inside a protected section was cancelled: if the section is
 * I/O on a shared connection, the bound starts. */
static void protected_cancel(ta_coro *co)
{
    for (hold *h = tl_holds; h; h = h->next)
        if (h->co == co && h->in_io) bound_start(h);
}

/* ---- I/O on a held connection's socket --------------------------------------------- */

static hold *io_hold(php_stream *stream)
{
    ta_coro *co = ta_coro_current();
    for (hold *h = co ? tl_holds : NULL; h; h = h->next)
        if (h->co == co && h->conn->vio && h->conn->vio->data && h->conn->vio->data->stream == stream) return h;
    return NULL;
}

static bool io_enter(php_stream *stream)
{
    hold *h = io_hold(stream);
    if (!h || h->cut || h->in_io) return false;
    h->in_io = true;
    h->co->protect++;
    /* cancelled already (an unread result skipped as its statement goes) */
    if (h->co->cancelled) bound_start(h);
    return true;
}

static void io_leave(php_stream *stream)
{
    hold *h = io_hold(stream);
    if (!h || !h->in_io) return;
    h->in_io = false;
    h->co->protect--;
}

/* ---- the calls of a coroutine ------------------------------------------------ */

static void hold_drop(hold *h)
{
    bound_stop(h);
    if (h->kill) ta_db_kill_drop(h->kill);
    if (h->in_io) ta_coro_unprotect(h->co);
    for (hold **p = &tl_holds; *p; p = &(*p)->next)
        if (*p == h) { *p = h->next; break; }
    efree(h);
}

int ta_db_cancel_enter(MYSQLND_CONN_DATA *conn, ta_coro *co)
{
    if (!areas || !conn || !co || !shared(conn, co)) return 0;
    note_closed(conn, co);
    /* a cancelled coroutine sends no new statement on it */
    if (ta_coro_throw_pending_cancel()) return -1;
    hold *h = hold_of(co, conn);
    if (!h) {
        h = ecalloc(1, sizeof *h);
        h->co = co;
        h->conn = conn;
        h->next = tl_holds;
        tl_holds = h;
    }
    h->calls++;
    return 1;
}

/* The statement ended before the KILL's answer came: co keeps the
 * connection until it comes (or its grace passes), so that the KILL cannot
 * meet the next holder's statement. */
static void kill_wait(hold *h)
{
    h->kill_wait = true;
    h->co->protect++;
    while (h->kill && ta_coro_wait(NULL, NULL) == SUCCESS) {}
    h->co->protect--;
    h->kill_wait = false;
}

void ta_db_cancel_leave(MYSQLND_CONN_DATA *conn, ta_coro *co, zval *return_value)
{
    hold *h = hold_of(co, conn);
    if (!h) return;
    note_closed(conn, co);
    if (--h->calls) return;
    if (h->kill) kill_wait(h);
    /* the error of the statement killed for the cancellation gives way to it */
    if (h->killed && EG(exception) && !co->protect && co->cancelled && co->throw_in) zend_clear_exception();
    if (co->protect || EG(exception) || !co->cancelled || !co->throw_in) return;
    /* what the call returned goes first, while no exception is in flight
     * (an unbuffered statement skips the rest of its result, its I/O held
     * to its end) */
    if (return_value) {
        zval_ptr_dtor(return_value);
        ZVAL_NULL(return_value);
    }
    ta_coro_throw_pending_cancel();
}

void ta_db_cancel_released(MYSQLND_CONN_DATA *conn, ta_coro *co)
{
    hold *h = areas ? hold_of(co, conn) : NULL;
    if (h) hold_drop(h);
}

void ta_db_cancel_forget(ta_coro *co)
{
    for (hold **p = &tl_holds; *p;) {
        if ((*p)->co == co) hold_drop(*p);
        else p = &(*p)->next;
    }
}

/* ---- installing ---------------------------------------------------------------- */

void ta_db_cancel_install(void)
{
    /* found at run time: mysqlnd may be a shared extension, or absent */
    unsigned (*reg)(void) = (unsigned (*)(void)) dlsym(RTLD_DEFAULT, "mysqlnd_plugin_register");
    struct st_mysqlnd_plugin_methods_xetters *xet = dlsym(RTLD_DEFAULT, "mysqlnd_plugin_methods_xetters");
    areas = dlsym(RTLD_DEFAULT, "mysqlnd_plugin_area_getters");
    if (!reg || !xet || !areas || !zend_hash_str_exists(&module_registry, ZEND_STRL("mysqlnd"))) {
        areas = NULL;
        return;
    }
    plugin_id = reg();
    conn_methods = *xet->connection_data.get();
    orig_connect = conn_methods.connect;
    conn_methods.connect = owned_connect;
    xet->connection_data.set(&conn_methods);
    if (!ta_db_kill_install()) ta_log(TA_LOG_INFO, TA_LOGNO(00870) "mysqlnd_connection_init not found: a shared MySQL "
                                      "connection's overdue statement is cut, not killed");
    ta_sched_set_protected_cancel_hook(protected_cancel);
    ta_stream_set_io_hooks((ta_stream_io_hooks) { io_enter, io_leave });
}
