/* ob_gzhandler per request. PHP's zlib extension keeps the handler's
 * deflate stream and the chosen encoding once per thread (reset at request
 * start-up): two requests compressing at once on a thread would write into
 * one stream, and one request's Accept-Encoding would decide another's. */
#ifndef TA_PHP_REQUEST_ZLIB_H
#define TA_PHP_REQUEST_ZLIB_H

#include "php_common.h"

typedef struct ta_zlib_state {
    void *gzhandler;        /* its php_zlib_context */
    int coding;             /* the encoding chosen from this request's Accept-Encoding */
    zend_long compression;  /* zlib.output_compression's chunk size, while its handler runs */
    bool registered;        /* that handler was made for the request */
} ta_zlib_state;

/* From MINIT: finds zlib's globals (its headers are not installed). */
void ta_request_zlib_minit(void);
/* Exchanges s with the thread's (both directions). */
void ta_request_zlib_exchange(ta_zlib_state *s);
/* The request starts (live, its output layer fresh): zlib.output_compression
 * as PHP applies it at request start-up. */
void ta_request_zlib_start(const char *accept_encoding);
/* The request ended (live): its deflate stream is freed. */
void ta_request_zlib_end(void);

#endif
