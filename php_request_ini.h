/* ini_set() inside a request is the request's: undone when it ends, as at
 * the end of a PHP request, and never seen by the other requests whose
 * coroutines run meanwhile (their settings are put back while it waits). */
#ifndef TA_PHP_REQUEST_INI_H
#define TA_PHP_REQUEST_INI_H

#include "php_common.h"

typedef struct ta_ini_seen {
    zend_ini_entry *entry;
    zend_string *value;     /* a reference to its value then */
} ta_ini_seen;

typedef struct ta_request_ini {
    HashTable *before;      /* name => the value before the request changed it (NULL: none) */
    HashTable *stash;       /* name => the request's value while it is swapped out */
    ta_ini_seen *seen;  /* the modified settings when it was swapped in */
    uint32_t n_seen, cap_seen;
    bool snapped;           /* seen is the snapshot of its current run */
} ta_request_ini;

/* From MINIT: ini_set()/ini_alter()/ini_restore()/set_include_path() note
 * what a running request changes. */
void ta_request_ini_install(void);
/* The state of the request whose globals are live (NULL: none). */
void ta_request_ini_bind(ta_request_ini *ini);
/* Before PHP code of the running request changes the setting `name`
 * another way (session_name(), ...). */
void ta_request_ini_remember(const char *name);
/* Around the exchange of the request's globals (ta_request_globals): */
void ta_request_ini_swap_in(ta_request_ini *ini);
void ta_request_ini_swap_out(ta_request_ini *ini);
/* The request (live) hands its settings whose name starts with prefix to
 * the thread: they are no longer undone. */
void ta_request_ini_adopt(ta_request_ini *ini, const char *prefix);
/* The request ended (live): its settings are undone. */
void ta_request_ini_end(ta_request_ini *ini);

#endif
