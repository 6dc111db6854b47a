/* date_default_timezone_set() inside a request is the request's: ext/date
 * keeps the zone in its globals, exchanged with the thread's around the
 * request's coroutines like the rest of its state (php_request_globals.c). */
#ifndef TA_PHP_REQUEST_DATE_H
#define TA_PHP_REQUEST_DATE_H

#include "php_common.h"

typedef struct {
    char *timezone;             /* the request's zone while it is swapped out (emalloc'd) */
    bool init;
} ta_date_state;

/* From MINIT: finds ext/date's globals. */
void ta_request_date_minit(void);
/* Swaps the zone in or out; the first time the request starts from the
 * thread's (what the worker script set at boot). */
void ta_request_date_exchange(ta_date_state *s);
/* The request's zone, once it is swapped out for good. */
void ta_request_date_free(ta_date_state *s);

#endif
