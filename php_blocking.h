/* Blocking PHP functions (sleep, DNS, exec family), and libc sleeps of
 * shared extensions (phpredis' session lock), made to yield inside
 * coroutines: their handlers are swapped for wrappers that wait on reactor
 * events, and call the original handlers outside coroutines. */
#ifndef TA_PHP_BLOCKING_H
#define TA_PHP_BLOCKING_H

#include "php_common.h"

/* Call once from MINIT, before PHP threads copy the function table. */
void ta_blocking_hooks_install(void);

#endif
