/* The FrankenPHP\ request API: HttpServer, Request, Response, UploadedFile. */
#ifndef TA_PHP_HTTP_API_H
#define TA_PHP_HTTP_API_H

#include "php_common.h"
#include "exchange.h"
#include "scheduler.h"

void ta_http_api_register(void);
/* Starts the request's coroutine on the current thread's scheduler. */
int ta_http_start_request(ta_exchange *ex, zval *callback);
/* The inbox said something about this exchange: Apache took the pending
 * bytes, or the client went away. */
void ta_http_exchange_event(ta_exchange *ex);
/* Runs the current thread's event loop (ta_thread_serve) until it stops. */
void ta_http_run_loop(void);
/* echo/print from PHP: appended to the current request's response. */
size_t ta_http_echo(const char *str, size_t len);

#endif
