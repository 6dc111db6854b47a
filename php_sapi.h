/* The SAPI that embeds PHP into the Apache child: process-wide start-up and
 * shut-down, and where PHP's output and log lines go. */
#ifndef TA_PHP_SAPI_H
#define TA_PHP_SAPI_H

#include "php_common.h"

/* In the thread that will later call ta_php_shutdown: starts PHP with
 * `module` as this SAPI's own extension; PHP's output (echo, print) goes to
 * `sink`. 0 or -1 (logged). */
int ta_php_startup(zend_module_entry *module, size_t (*sink)(const char *str, size_t len));
void ta_php_shutdown(void);

/* Where header(), header_remove() and PHP's own headers (setcookie, the
 * session's) go while a request runs: returns SAPI_HEADER_ADD to keep the
 * header in SAPI's list instead. */
typedef int (*ta_header_fn)(sapi_header_struct *h, sapi_header_op_enum op);
void ta_sapi_set_header_handler(ta_header_fn fn);
/* What flush() does (gets SG(server_context)). */
void ta_sapi_set_flush_handler(void (*fn)(void *server_context));

#endif
