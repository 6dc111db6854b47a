/* set_error_handler(), set_exception_handler() and error_reporting()
 * inside a request are the request's, and so is what error_get_last()
 * reports, and the error handling mode an internal constructor sets
 * (EH_THROW while new PDO connects): the engine keeps them in its
 * globals, exchanged with the thread's around the request's coroutines
 * like the rest of its state (php_request_globals.c). */
#ifndef TA_PHP_REQUEST_ERRORS_H
#define TA_PHP_REQUEST_ERRORS_H

#include "php_common.h"

typedef struct {
    bool init;
    int level;                  /* EG(error_reporting) */
    int handler_level;          /* the error handler's $error_levels */
    zval handler, exception_handler;
    zend_stack handlers, handler_levels, exception_handlers;    /* what restore_*_handler() pops to */
    int last_type, last_line;   /* error_get_last(): a request starts with none */
    zend_string *last_message, *last_file;
    /* zend_replace_error_handling(): a constructor that waits (new PDO
     * connecting) must not leave its EH_THROW to another request */
    zend_error_handling_t handling;
    zend_class_entry *exception_class;
} ta_errors_state;

/* Swaps them in or out; the first time the request starts from the
 * thread's (what the worker script set at boot). */
void ta_request_errors_exchange(ta_errors_state *s);
/* The request's, once it is swapped out for good. */
void ta_request_errors_free(ta_errors_state *s);

#endif
