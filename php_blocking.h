/* Blocking PHP functions (sleep, DNS, exec family) made to yield inside
 * coroutines: their handlers are swapped for wrappers that wait on reactor
 * events, and call the original handlers outside coroutines. */
#ifndef TA_PHP_BLOCKING_H
#define TA_PHP_BLOCKING_H

#include "php_common.h"

/* One internal function whose handler is replaced by a wrapper. */
typedef struct ta_fn_hook {
    const char *name;
    zif_handler *orig;          /* receives the original handler */
    zif_handler wrapper;
} ta_fn_hook;

/* Swaps the handlers (missing functions are skipped; a second call keeps
 * the first originals). From MINIT, before PHP threads start. */
void ta_hook_functions(const ta_fn_hook *hooks, size_t n);

/* Call once from MINIT, before PHP threads copy the function table. */
void ta_blocking_hooks_install(void);

#endif
