/* The module's own PHP extension ("trueasync"): its functions, and the
 * MINIT that registers every class, hook and the reactor. Given to the SAPI
 * at start-up by the PHP thread layer. */
#ifndef TA_PHP_MODULE_H
#define TA_PHP_MODULE_H

#include "php_common.h"

extern zend_module_entry ta_module_entry;

/* A run of the worker script ends, before its coroutines' stacks go: the
 * guards let their waiters go without waking them and forget what they
 * held, so that nothing of theirs is touched once the stacks are gone. */
void ta_module_run_end(void);

#endif
