/* The Async\ userland API (TrueAsync's names) and its classes. */
#ifndef TA_PHP_ASYNC_API_H
#define TA_PHP_ASYNC_API_H

#include "php_common.h"

extern zend_class_entry *ta_ce_cancellation_error;
extern zend_class_entry *ta_ce_timeout_exception;
extern zend_class_entry *ta_ce_channel_exception;

void ta_async_api_register(void);
/* The thread's reactor was abandoned after a bailout: objects must not
 * release the events they point at. */
void ta_async_reactor_abandoned(void);
extern const zend_function_entry ta_async_functions[];

#endif
