/* The Async\ userland API (TrueAsync's names) and its classes. */
#ifndef TA_PHP_ASYNC_API_H
#define TA_PHP_ASYNC_API_H

#include "php_common.h"
#include "ta_async_api.h"   /* the Async\ exception classes */

/* Registers the classes; the exceptions must be registered already
 * (ta_async_exceptions_register). */
void ta_async_api_register(void);
extern const zend_function_entry ta_async_functions[];

#endif
