/* Replacing the handler of an internal PHP function with a wrapper that
 * can call the original (how blocking calls learn to yield, and how pcntl
 * is kept off Apache's signals). */
#ifndef TA_PHP_FN_HOOK_H
#define TA_PHP_FN_HOOK_H

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

#endif
