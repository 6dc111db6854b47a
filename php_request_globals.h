/* PHP's per-request globals, one set per request. PHP keeps them once per
 * thread: what the SAPI layer knows of the request (request_info, POST
 * reading, uploads), the response's status and header state, the header
 * callback, the superglobals with their PG(http_globals) twins, and the
 * shutdown functions. Requests whose coroutines interleave on the thread
 * each get their own set, exchanged with the thread's while one of their
 * coroutines runs, so `$_GET`, header() or http_response_code() always
 * act on the request whose code is running. */
#ifndef TA_PHP_REQUEST_GLOBALS_H
#define TA_PHP_REQUEST_GLOBALS_H

#include "php_common.h"
#include "exchange.h"
#include <ext/standard/url_scanner_ex.h>
#include "php_request_ini.h"
#include "php_request_session.h"
#include "php_request_zlib.h"
#include "php_request_date.h"
#include "php_request_errors.h"
#include "php_request_cwd.h"
#include "php_request_random.h"

enum { TA_SG_GET, TA_SG_POST, TA_SG_COOKIE, TA_SG_SERVER, TA_SG_FILES, TA_SG_REQUEST, TA_SG_SESSION, TA_SG_N };

typedef struct ta_request_globals {
    const ta_request *req;          /* what Apache handed over; NULL: not a request */
    const char *script;             /* the worker script (SCRIPT_FILENAME) */
    bool started;                   /* set up (first time it was swapped in) */
    bool live;                      /* swapped in: the fields below hold the thread's */
    struct ta_request_globals *prev_live;
    unsigned built;                 /* superglobals made, 1 << TA_SG_* */
    char *cookies;                  /* several Cookie headers joined, emalloc'd */
    sapi_request_info ri;
    sapi_headers_struct sh;
    int64_t read_post_bytes;
    unsigned char post_read, headers_sent;
    HashTable *uploads;
    double request_time;
    zval callback;
    zend_fcall_info_cache callback_fcc;
    zval pg[NUM_TRACK_VARS];
    zval sym[TA_SG_N];
    HashTable *shutdown_fns;
    url_adapt_state_ex_t url_out, url_sess;     /* output_add_rewrite_var(), trans-sid (up to .tags) */
    ta_request_ini ini;             /* its ini_set() changes */
    ta_request_session session;     /* its session_*() state */
    ta_zlib_state zlib;             /* its ob_gzhandler */
    ta_date_state date;             /* its date_default_timezone_set() */
    ta_errors_state errors;         /* its set_error_handler(), set_exception_handler(), error_reporting() */
    ta_cwd_state cwd;               /* its chdir() */
    ta_random_state random;         /* its mt_srand() */
} ta_request_globals;

/* From MINIT. */
void ta_rglobals_minit(void);
/* Per PHP thread, before its first boot: learns when compiled code first
 * uses $_SERVER or $_REQUEST (PHP makes those on first use). */
void ta_rglobals_thread_init(void);
/* Before each boot of the worker script: nothing used yet. */
void ta_rglobals_boot_reset(void);

void ta_rglobals_init(ta_request_globals *g, const ta_request *req, const char *script);
/* Exchanges g with the thread's globals: call once to swap the request in
 * (set up the first time: POST read, superglobals made) and once to swap
 * it out again. */
void ta_rglobals_swap(ta_request_globals *g);
/* The request ended: its session is written and closed, its request body
 * stream and uploaded files go (an upload nobody moved is deleted), its
 * ini settings are undone, as at the end of a PHP request. */
/* The live request's superglobals ($_SERVER aside) are let go of now: the
 * destructors of objects only they held run while its output is still the
 * response's, as in PHP's request shutdown (after the shutdown functions). */
void ta_rglobals_release_superglobals(void);
/* The live request's session is written and closed now (its handler's
 * output still belongs to the response). */
void ta_rglobals_close_session(void);
void ta_rglobals_end(ta_request_globals *g);
/* Frees the rest (not live). */
void ta_rglobals_free(ta_request_globals *g);

/* The set swapped in now, or NULL (the thread's own). */
ta_request_globals *ta_rglobals_live(void);
/* The request's status code / PHP's headers_sent flag, wherever they are. */
int *ta_rglobals_status(ta_request_globals *g);
/* The status line header("HTTP/1.x ...") gave, or NULL. */
const char *ta_rglobals_status_line(ta_request_globals *g);
unsigned char *ta_rglobals_headers_sent(ta_request_globals *g);
/* Runs the request's register_shutdown_function() callbacks (live, inside
 * its coroutine). An exception ends the run and stays pending. */
void ta_rglobals_run_shutdown_functions(void);

/* For the SAPI callbacks while a request is live. */
size_t ta_rglobals_read_post(char *buf, size_t len);
void ta_rglobals_register_server(zval *track_vars);

#endif
