/* The FrankenPHP\ objects' layouts and what the php_http_*.c files share
 * of them; private to those files. */
#ifndef TA_PHP_HTTP_OBJECTS_H
#define TA_PHP_HTTP_OBJECTS_H

#include "php_common.h"
#include "php_class.h"
#include "exchange.h"
#include "scheduler.h"
#include "php_request_output.h"
#include "php_request_globals.h"

typedef struct {
    ta_exchange *ex;
    zval query, cookies, parsed, files;
    zend_object std;
} ta_request_obj;

typedef struct {
    ta_exchange *ex;
    ta_coro *coro;              /* the request coroutine while it runs */
    ta_coro *writer;            /* a coroutine waiting in write() */
    HashTable headers;          /* lower-case name => [name, value, value...] */
    bool headers_sent, ended;   /* the head / the whole response went to Apache */
    ta_output_state out;        /* the request's ob_* stack while it is swapped out */
    ta_request_globals *g;      /* its superglobals, SAPI state (the status), ...; gone after a fatal error */
    zend_object *ascope;        /* its Async\Scope, made when PHP code asks; held */
    uint64_t id;                /* the thread's number for the request (ta_http_coro_request_id) */
    zend_object std;
} ta_response_obj;

typedef struct {
    zend_string *name, *type, *tmp;     /* all NULL until make_upload() */
    zend_long size, error;
    bool moved;
    zend_object std;
} ta_upload_obj;

#define REQ_THIS() OBJ_OF(ta_request_obj, Z_OBJ_P(ZEND_THIS))


extern zend_class_entry *ta_ce_server, *ta_ce_request, *ta_ce_response, *ta_ce_upload;

/* Puts r's request state back out if it is the one swapped in. */
void ta_http_scope_flush_if(ta_response_obj *r);
/* The response whose request's state is swapped in (its code runs). */
ta_response_obj *ta_http_live_response(void);
/* The response's headers as header() and Response::setHeader() change them. */
void ta_response_header_put(ta_response_obj *r, zend_string *name, zend_string *value, bool replace);
void ta_response_header_del(ta_response_obj *r, const char *name, size_t len);
/* One header's values (an entry of r->headers) joined with ", ". */
zend_string *ta_response_header_joined(zval *entry);

/* The response's headers for Apache (final: with PHP's default
 * Content-Type when none is set). */
ta_kv *ta_response_head_kv(ta_response_obj *r, size_t *n_out, bool final);
/* Hands data (and the head, first time) to Apache without waiting. */
void ta_response_post(ta_response_obj *r, const char *data, size_t len, int end);
/* Backpressure: waits (as a coroutine) until Apache took what was handed
 * over before. */
zend_result ta_response_wait_drained(ta_response_obj *r);

#endif
