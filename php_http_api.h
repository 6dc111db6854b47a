/* The FrankenPHP\ request API: HttpServer, Request, Response, UploadedFile. */
#ifndef TA_PHP_HTTP_API_H
#define TA_PHP_HTTP_API_H

#include "php_common.h"
#include "exchange.h"
#include "scheduler.h"

/* What the PHP thread that runs a worker gives the HTTP API: it does not
 * know the thread, only these. */
typedef struct ta_http_host {
    zval *handler;              /* where onRequest() stores the callback */
    const char *script;         /* the worker script, for log lines */
    const char *const *sendfile_dirs;   /* where Response::sendFile() may serve from */
    int n_sendfile_dirs;
    /* the request is finished on the PHP side: free its slot */
    void (*request_done)(void *ctx, ta_exchange *ex);
    /* the thread's event loop, run from HttpServer's loop frame */
    void (*serve)(void *ctx);
    /* the same, returning once a request has finished: false when the
     * worker stops instead (frankenphp_handle_request()) */
    bool (*serve_next)(void *ctx);
    void *ctx;
} ta_http_host;

/* From MINIT, in this order: each file registers its own classes
 * (stubs/<file>.stub.php). */
void ta_http_api_register(void);        /* HttpServer, and the hooks */
void ta_http_request_register(void);    /* Request, UploadedFile */
void ta_http_response_register(void);   /* Response */
/* Binds the calling PHP thread to its host (NULL: unbinds). */
void ta_http_bind(const ta_http_host *host);
const ta_http_host *ta_http_bound_host(void);
/* Starts the request's coroutine on the current thread's scheduler. */
int ta_http_start_request(ta_exchange *ex, zval *callback);
/* The inbox said something about this exchange: Apache took the pending
 * bytes, or the client went away. */
void ta_http_exchange_event(ta_exchange *ex);
/* Ends a request whose response has not ended: Apache answers `status`
 * (or closes the connection) and its coroutines are cancelled with `why`.
 * False if its response had ended already. */
bool ta_http_cancel_request(ta_exchange *ex, int status, const char *why);
/* The exchange of the request a coroutine belongs to, or NULL. */
ta_exchange *ta_http_coro_exchange(ta_coro *co);
/* A number for the request a coroutine belongs to, never reused by the
 * thread (0: a coroutine of no request). */
uint64_t ta_http_coro_request_id(ta_coro *co);
/* Whether the thread's handler came from frankenphp_handle_request(): its
 * requests are FrankenPHP's, one at a time unless the admin says more. */
bool ta_http_serves_loop(void);
/* Runs the bound host's serve() inside a PHP frame, until it returns. */
void ta_http_run_loop(void);
/* echo/print from PHP: appended to the current request's response. */
size_t ta_http_echo(const char *str, size_t len);
/* header() and PHP's own headers while a request runs (the SAPI's header
 * handler): kept in the request's response. */
int ta_http_header_op(sapi_header_struct *h, sapi_header_op_enum op);
/* Puts the thread's own request state back (a request's may stay swapped
 * in between runs of its coroutines); before PHP code outside requests. */
void ta_http_scope_flush(void);
/* From MINIT: the functions of plain PHP code (getallheaders(), ...);
 * headers_list() reads the running request's response. */
void ta_http_classic_install(void);

#endif
