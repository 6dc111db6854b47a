/* foreach over the module's waiting collections (Channel, TaskGroup,
 * TaskSet, FileSystemWatcher): an iterator that pulls its next element
 * from the object, waiting as a coroutine where the object waits. */
#ifndef TA_PHP_ASYNC_ITER_H
#define TA_PHP_ASYNC_ITER_H

#include "php_common.h"

/* Puts the next element in *value (and its key in *key, or leaves it UNDEF
 * for 0, 1, 2, ...); false at the end, an exception thrown or not. */
typedef bool (*ta_pull_fn)(zend_object *obj, zval *value, zval *key);

/* A class's get_iterator handler body: an iterator of `object` driven by pull. */
zend_object_iterator *ta_pull_iterator(zval *object, int by_ref, ta_pull_fn pull);

#endif
