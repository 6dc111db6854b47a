/* HttpServer, and each request's coroutine: started from an exchange,
 * told of its news, finished. */
#include "php_http_objects.h"
#include "php_http_api.h"
#include "ta_log.h"
#include "php_async_scope.h"
#include <zend_closures.h>
#include "stubs/php_http_api_arginfo.h"

zend_class_entry *ta_ce_server;
static zend_object_handlers h_server;

static __thread const ta_http_host *tl_host;
static __thread bool tl_entering_loop;

void ta_http_bind(const ta_http_host *host) { tl_host = host; }
const ta_http_host *ta_http_bound_host(void) { return tl_host; }

/* HttpServer is static-only; a create handler (plus final) makes
 * ReflectionClass::newInstanceWithoutConstructor() refuse it too. */
static zend_object *server_create(zend_class_entry *ce)
{
    zend_object *o = zend_objects_new(ce);
    object_properties_init(o, ce);
    o->handlers = &h_server;
    return o;
}

/* The request whose output layer is the thread's now: set while one of its
 * coroutines runs, and while its buffers are flushed at its end. */
static __thread ta_response_obj *tl_out_owner;
static __thread zend_output_globals tl_thread_og;

ta_response_obj *ta_http_live_response(void) { return tl_out_owner; }

/* The request whose state is swapped in. It stays in between runs of its
 * coroutines (a request's coroutines often take turns), and goes back out
 * when a coroutine of another request (or of none) runs, when the
 * scheduler goes back to its loop, and before its Response is freed. */
static __thread ta_response_obj *tl_swapped;

static void swap_in(ta_response_obj *r)
{
    tl_out_owner = r;           /* set-up adds headers (X-Powered-By) to it */
    ta_output_swap_in(&r->out, &tl_thread_og);
    if (r->g && r->g->req) ta_rglobals_swap(r->g);
    tl_swapped = r;
}

void ta_http_scope_flush(void)
{
    ta_response_obj *r = tl_swapped;
    if (!r) return;
    tl_swapped = NULL;
    tl_out_owner = NULL;
    if (r->g && r->g->live) ta_rglobals_swap(r->g);
    ta_output_swap_out(&r->out, &tl_thread_og);
}

void ta_http_scope_flush_if(ta_response_obj *r)
{
    if (tl_swapped == r) ta_http_scope_flush();
}

static void scope_enter(zend_object *scope)
{
    ta_response_obj *r = scope ? OBJ_OF(ta_response_obj, scope) : NULL;
    if (r != tl_swapped) {
        ta_http_scope_flush();
        if (r) swap_in(r);
    }
    tl_out_owner = r;
}

static void scope_leave(zend_object *scope)
{
    (void) scope;
    /* its state stays in until someone else needs the thread's */
    tl_out_owner = NULL;
}

/* What the request's ob_* buffers still hold goes out before its end,
 * through its handlers (ob_gzhandler, the URL rewriter), which see the
 * request's own globals. */
static void flush_output(ta_response_obj *r)
{
    if (!r->out.started) return;
    scope_enter(&r->std);
    php_output_end_all();
    scope_leave(&r->std);
    ta_http_scope_flush();
}

size_t ta_http_echo(const char *str, size_t len)
{
    ta_response_obj *r = tl_out_owner;
    if (r && !r->ended) {
        ta_response_post(r, str, len, 0);
    } else if (len) {
        ta_log(TA_LOG_INFO, TA_LOGNO(00830) "PHP output outside a request: %.*s",
               (int) (len > 512 ? 512 : len), str);
    }
    return len;
}

/* ---- the request coroutine ------------------------------------------------- */

static void log_uncaught(zend_object *ex, const char *script)
{
    ta_exception_info i;
    ta_exception_info_get(ex, &i);
    ta_log(TA_LOG_ERR, TA_LOGNO(00831) "Uncaught %s: %s in %s:" ZEND_LONG_FMT " (request handler of %s)",
           i.cls, i.message, i.file, i.line, script);
}

/* A fatal error (PHP logged it) or no fiber stack (out of memory mappings:
 * the server is overloaded, so 503). Frames of a fatal coroutine are never
 * freed: let go of the exchange here so its body and headers do not stay
 * with them. */
/* With display_errors, an uncaught exception is printed as PHP prints it
 * (into the request's buffers, before they are flushed); the log has it
 * already. */
static void display_uncaught(ta_response_obj *r, zend_object *uncaught)
{
    scope_enter(&r->std);
    if (PG(display_errors) && !EG(exception)) {
        bool log = PG(log_errors);
        PG(log_errors) = 0;
        GC_ADDREF(uncaught);            /* zend_exception_error() releases it */
        zend_exception_error(uncaught, E_ERROR);
        PG(log_errors) = log;
    }
    scope_leave(&r->std);
}

/* A request that failed (a fatal error, an uncaught exception) while its
 * response has not gone out ends as PHP ends it: what it wrote so far, its
 * buffers flushed through their handlers, with the status PHP leaves (the
 * message display_errors printed is part of it). False when it wrote
 * nothing at all, or its head went out already: then Apache answers the
 * error, or the connection is closed. */
static bool end_as_php(ta_response_obj *r, ta_exchange *ex, zend_object *uncaught)
{
    if (ta_exchange_head_taken(ex)) return false;
    if (uncaught) display_uncaught(r, uncaught);
    flush_output(r);
    if (!r->headers_sent || ta_exchange_head_taken(ex)) return false;
    if (!r->ended) ta_response_post(r, NULL, 0, 1);
    return true;
}

static void request_failed(ta_coro *co, ta_response_obj *r, ta_exchange *ex, zend_object *uncaught)
{
    if (co->no_stack) log_uncaught(uncaught, tl_host->script);
    if (ex && !r->ended && (co->no_stack || !end_as_php(r, ex, NULL))) ta_exchange_fail(ex, co->no_stack ? 503 : 500);
    r->headers_sent = r->ended = true;
    if (co->argc >= 2 && Z_TYPE(co->args[1]) == IS_OBJECT && Z_OBJCE(co->args[1]) == ta_ce_request) {
        ta_request_obj *req = OBJ_OF(ta_request_obj, Z_OBJ(co->args[1]));
        if (req->ex) { ta_exchange_release(req->ex); req->ex = NULL; }
    }
    /* the dead frames keep the Response: free what it holds now */
    if (r->g) {
        ta_rglobals_end(r->g);
        ta_rglobals_free(r->g);
        efree(r->g);
        r->g = NULL;
    }
    zend_hash_clean(&r->headers);
    r->coro = NULL;
    r->ex = NULL;
    if (ex) {
        ex->php_ctx = NULL;
        tl_host->request_done(tl_host->ctx, ex);
        ta_exchange_release(ex);
    }
}

/* The request's cancellation, or what a driver threw over it: a client
 * that leaves while `new PDO` connects gets mysqlnd's connect error, a
 * PDOException whose previous is the CancellationError. */
static bool by_cancellation(ta_coro *co, zend_object *ex)
{
    for (int depth = 0; co->cancelled && ex && depth < 8; depth++) {
        if (instanceof_function(ex->ce, ta_ce_async_cancellation)) return true;
        zval rv, *prev = zend_read_property_ex(zend_get_exception_base(ex), ex, ZSTR_KNOWN(ZEND_STR_PREVIOUS), 1, &rv);
        ex = Z_TYPE_P(prev) == IS_OBJECT ? Z_OBJ_P(prev) : NULL;
    }
    return false;
}

static void request_done(ta_coro *co, zend_object *uncaught)
{
    zend_object *robj = co->scope;
    ta_response_obj *r = OBJ_OF(ta_response_obj, robj);
    ta_exchange *ex = r->ex;
    /* the request's end works on its own state from the thread's (not
     * nested inside another request's kept swapped in) */
    ta_http_scope_flush();
    if (co->fatal || co->no_stack) {
        request_failed(co, r, ex, uncaught);
        return;
    }
    if (uncaught) {
        /* Cancelled from outside (client gone, server stopping): not the
         * script's error; the client, if still there, gets 503. */
        bool cancelled = by_cancellation(co, uncaught);
        if (!cancelled) log_uncaught(uncaught, tl_host->script);
        if (!r->ended && ex && (cancelled || !end_as_php(r, ex, uncaught))) {
            ta_exchange_fail(ex, cancelled ? 503 : 500);
            r->headers_sent = r->ended = true;
        }
    } else if (!r->ended) {
        flush_output(r);
        if (!r->ended) ta_response_post(r, NULL, 0, 1);
    }
    /* A coroutine of this request still waiting in write() would never hear
     * from Apache again (the exchange leaves the thread): let it see the end. */
    if (r->writer) {
        ta_coro *w = r->writer;
        r->writer = NULL;
        ta_coro_wake(w);
    }
    if (r->g) ta_rglobals_end(r->g);
    r->coro = NULL;
    if (ex) tl_host->request_done(tl_host->ctx, ex);
}

/* A Closure of HttpServer::handle(), made once per boot of the script. */
static __thread zval tl_dispatch;
/* The last request number given on this thread. */
static __thread uint64_t tl_request_ids;
/* The handler came from frankenphp_handle_request() (called without
 * arguments; superglobals are its request). */
static __thread bool tl_classic;

bool ta_http_serves_loop(void) { return tl_classic; }

int ta_http_start_request(ta_exchange *ex, zval *callback)
{
    if (Z_TYPE(tl_dispatch) != IS_OBJECT) {
        zend_function *fn = zend_hash_str_find_ptr(&ta_ce_server->function_table, ZEND_STRL("handle"));
        zend_create_fake_closure(&tl_dispatch, fn, ta_ce_server, ta_ce_server, NULL);
    }
    zval args[4];
    ZVAL_COPY_VALUE(&args[0], callback);
    ZVAL_BOOL(&args[3], tl_classic);
    object_init_ex(&args[1], ta_ce_request);
    object_init_ex(&args[2], ta_ce_response);
    ta_request_obj *req = OBJ_OF(ta_request_obj, Z_OBJ(args[1]));
    ta_response_obj *res = OBJ_OF(ta_response_obj, Z_OBJ(args[2]));
    ta_exchange_ref(ex);
    req->ex = ex;
    ta_exchange_ref(ex);
    res->ex = ex;
    res->id = ++tl_request_ids;
    res->g = emalloc(sizeof *res->g);
    ta_rglobals_init(res->g, &ex->req, tl_host->script);
    res->g->session.keep_config = tl_classic;     /* FrankenPHP keeps a loop's session set-up */
    ta_coro *co = ta_sched_spawn(ta_sched_current, &tl_dispatch, 4, args, Z_OBJ(args[2]), request_done);
    if (!co) {
        if (EG(exception)) zend_clear_exception();
        zval_ptr_dtor(&args[1]);
        zval_ptr_dtor(&args[2]);
        return -1;
    }
    res->coro = co;
    ex->php_ctx = res;
    zval_ptr_dtor(&args[1]);
    zval_ptr_dtor(&args[2]);
    return 0;
}

/* The request coroutine's body: the handler, then what PHP does at the
 * end of a request. exit() ends the request, not the worker. */
ZEND_METHOD(FrankenPHP_HttpServer, handle)
{
    zval *handler, *req, *res;
    bool classic;
    ZEND_PARSE_PARAMETERS_START(4, 4)
        Z_PARAM_ZVAL(handler)
        Z_PARAM_OBJECT_OF_CLASS(req, ta_ce_request)
        Z_PARAM_OBJECT_OF_CLASS(res, ta_ce_response)
        Z_PARAM_BOOL(classic)
    ZEND_PARSE_PARAMETERS_END();
    ta_response_obj *r = OBJ_OF(ta_response_obj, Z_OBJ_P(res));
    if (!(r->g && r->g->live)) {
        zend_throw_error(NULL, "HttpServer::handle() is internal");
        RETURN_THROWS();
    }
    zval args[2], rv;
    ZVAL_COPY_VALUE(&args[0], req);
    ZVAL_COPY_VALUE(&args[1], res);
    ZVAL_UNDEF(&rv);
    ta_request_session_auto_start();
    /* frankenphp_handle_request()'s handler takes no arguments */
    call_user_function(NULL, NULL, handler, &rv, classic ? 0 : 2, args);
    zval_ptr_dtor(&rv);
    if (EG(exception) && zend_is_unwind_exit(EG(exception))) zend_clear_exception();
    /* an uncaught exception goes to the request's set_exception_handler(),
     * as PHP does at the end of a script, before the shutdown functions */
    if (EG(exception) && Z_TYPE(EG(user_exception_handler)) != IS_UNDEF) zend_user_exception_handler();
    /* register_shutdown_function() callbacks run even after an uncaught
     * exception, as at the end of a PHP request */
    /* held here, not in EG(prev_exception): a shutdown function may
     * suspend, and other coroutines run meanwhile */
    zend_object *threw = EG(exception);
    EG(exception) = NULL;
    ta_rglobals_run_shutdown_functions();
    if (EG(exception) && zend_is_unwind_exit(EG(exception))) zend_clear_exception();
    if (threw) {
        zval ex;
        ZVAL_OBJ(&ex, threw);
        zend_throw_exception_object(&ex);
    } else if (!EG(exception)) {
        /* then, as PHP's request shutdown does, the destructors, the output
         * buffers, and the session's write and close, whose output (a user
         * handler's) is still the response's */
        ta_rglobals_release_superglobals();
        if (!EG(exception)) php_output_end_all();
        if (!EG(exception)) ta_rglobals_close_session();
    }
}

void ta_http_exchange_event(ta_exchange *ex)
{
    ta_response_obj *r = ex->php_ctx;
    if (ta_exchange_is_aborted(ex)) {
        /* the handler and everything the request spawned */
        if (ta_sched_current) ta_sched_cancel_scope(ta_sched_current, &r->std, "Client disconnected");
        if (r->writer && r->writer != r->coro) ta_coro_wake(r->writer);
    } else if (r->writer) {
        ta_coro *w = r->writer;
        r->writer = NULL;
        ta_coro_wake(w);
    }
}

/* TrueAsyncRequestTimeout: a response not ended yet is answered `status`
 * (or its connection closed) and the request's coroutines are cancelled,
 * as when its client leaves. False if its response had ended. */
bool ta_http_cancel_request(ta_exchange *ex, int status, const char *why)
{
    ta_response_obj *r = ex->php_ctx;
    if (!r || r->ended) return false;
    ta_exchange_fail(ex, status);
    r->headers_sent = r->ended = true;
    ta_sched_cancel_scope(ta_sched_current, &r->std, why);
    return true;
}

ta_exchange *ta_http_coro_exchange(ta_coro *co)
{
    return co && co->scope ? OBJ_OF(ta_response_obj, co->scope)->ex : NULL;
}

uint64_t ta_http_coro_request_id(ta_coro *co)
{
    return co && co->scope ? OBJ_OF(ta_response_obj, co->scope)->id : 0;
}

/* ---- HttpServer ------------------------------------------------------------ */

/* The thread's handler from now on; false (an Error thrown) outside a
 * worker script. */
static bool set_handler(zval *cb, bool classic, const char *who)
{
    if (!tl_host) {
        zend_throw_error(NULL, "%s can only be called from a TrueAsync worker script", who);
        return false;
    }
    zval_ptr_dtor(tl_host->handler);
    ZVAL_COPY(tl_host->handler, cb);
    tl_classic = classic;
    return true;
}

ZEND_METHOD(FrankenPHP_HttpServer, onRequest)
{
    zend_fcall_info fci;
    zend_fcall_info_cache fcc;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_FUNC(fci, fcc)
    ZEND_PARSE_PARAMETERS_END();
    if (!set_handler(&fci.function_name, false, "HttpServer::onRequest()")) RETURN_THROWS();
    RETURN_TRUE;
}

/* FrankenPHP's worker loop, `while (frankenphp_handle_request($h)) {...}`:
 * the first call starts serving; each call returns true once a request
 * has finished (so the loop body runs between requests), false when the
 * worker stops. FrankenPHP's contract: the thread runs one request at a
 * time in the handler (the next waits in the queue until the loop calls
 * again), since services written for worker mode hold "the current
 * request"; TrueAsyncMaxConcurrency may allow more. Inside its request the
 * handler's coroutines and I/O still run concurrently. */
ZEND_FUNCTION(frankenphp_handle_request)
{
    zend_fcall_info fci;
    zend_fcall_info_cache fcc;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_FUNC(fci, fcc)
    ZEND_PARSE_PARAMETERS_END();
    if (ta_coro_current()) {
        zend_throw_error(NULL, "frankenphp_handle_request() cannot be called from inside a request or coroutine");
        RETURN_THROWS();
    }
    if (!set_handler(&fci.function_name, true, "frankenphp_handle_request()")) RETURN_THROWS();
    RETURN_BOOL(tl_host->serve_next(tl_host->ctx));
}

/* The thread's event loop runs inside this (private) method's frame, so an
 * exception that escapes a coroutine comes back to the scheduler as a
 * pending exception instead of a top-level "uncaught" fatal error. */
ZEND_METHOD(FrankenPHP_HttpServer, loop)
{
    ZEND_PARSE_PARAMETERS_NONE();
    if (!tl_host || !tl_entering_loop) {
        zend_throw_error(NULL, "HttpServer::loop() is internal");
        RETURN_THROWS();
    }
    tl_entering_loop = false;
    tl_host->serve(tl_host->ctx);
}

void ta_http_run_loop(void)
{
    ZVAL_UNDEF(&tl_dispatch);       /* a boot that bailed left its heap behind */
    tl_swapped = NULL;
    tl_out_owner = NULL;
    zend_function *fn = zend_hash_str_find_ptr(&ta_ce_server->function_table, ZEND_STRL("loop"));
    zval rv;
    tl_entering_loop = true;
    zend_call_known_function(fn, NULL, ta_ce_server, &rv, 0, NULL, NULL);
    zval_ptr_dtor(&rv);
    zval_ptr_dtor(&tl_dispatch);
    ZVAL_UNDEF(&tl_dispatch);
}

/* ---- registration ---------------------------------------------------------- */

/* Where the Async\ API keeps a request's Scope. */
static zend_object **request_scope_slot(zend_object *request)
{
    return request->ce == ta_ce_response ? &OBJ_OF(ta_response_obj, request)->ascope : NULL;
}

void ta_http_api_register(void)
{
    ta_scope_set_request_slot(request_scope_slot);
    ta_sched_set_scope_hooks((ta_scope_hooks) { scope_enter, scope_leave, ta_http_scope_flush });
    /* Objects of the FrankenPHP\ classes only come from the module,
     * attached to their request: `new` is refused. */
    ta_ce_server = register_class_FrankenPHP_HttpServer();
    ta_class_set_handlers(ta_ce_server, server_create, &h_server, 0, NULL, true);
}
