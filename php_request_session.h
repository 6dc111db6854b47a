/* Sessions per request. PHP's session module keeps one state per thread
 * (the id, the open handler, $_SESSION); each request gets its own,
 * exchanged with the thread's while its coroutines run. Two requests of the
 * process with the same session id are serialized as PHP's files handler
 * does, but the second waits as a coroutine: its thread serves others. */
#ifndef TA_PHP_REQUEST_SESSION_H
#define TA_PHP_REQUEST_SESSION_H

#include "php_common.h"
#include <ext/session/php_session.h>

typedef struct ta_request_session {
    bool started;                   /* set up (first time swapped in) */
    zend_string *id;
    void *mod_data;
    php_session_status status;
    zval user_names[PS_NUM_APIS];   /* session_set_save_handler()'s callbacks */
    bool user_implemented, user_is_open;
    zend_string *user_class_name;
    zval vars;                      /* $_SESSION's reference */
    bool send_cookie, define_sid, in_save_handler, set_handler;
    zend_string *session_vars;
    php_session_rfc1867_progress *progress;
    char *locked;                   /* the session id this request holds, malloc'd */
    /* FrankenPHP's contract (a frankenphp_handle_request() loop): the save
     * handler and session.* settings a request sets stay for the thread's
     * later requests, since frameworks (Symfony's NativeSessionStorage)
     * configure the session once, in the first request that uses it */
    bool keep_config;
} ta_request_session;

/* From MINIT. */
void ta_request_session_install(void);
void ta_request_session_init(ta_request_session *s);
/* The state of the request whose globals are live (NULL: none). */
void ta_request_session_bind(ta_request_session *s);
/* Exchanges s with the thread's session state (both directions). */
void ta_request_session_exchange(ta_request_session *s);
/* The request ended (live): its session is written and closed, its lock
 * released, as at the end of a PHP request. */
void ta_request_session_end(ta_request_session *s);
/* session.auto_start: the live request's session starts before its
 * handler runs, as PHP starts it at request start-up. */
void ta_request_session_auto_start(void);
/* Around settings put back for a request: they may name the "user" save
 * handler, which PHP lets only session_set_save_handler() set. Returns
 * the flag before. */
bool ta_request_session_allow_user(bool on);
/* Frees what is left (not live). */
void ta_request_session_free(ta_request_session *s);

#endif
