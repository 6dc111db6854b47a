/* The Zend class boilerplate the php_async_*.c and php_http_*.c classes
 * share: sealed objects for the classes their stubs declare, and what a
 * log line says of an exception nobody caught. */
#ifndef TA_PHP_CLASS_H
#define TA_PHP_CLASS_H

#include "php_common.h"

/* The struct of an object whose zend_object is its member `std`. */
#define OBJ_OF(type, o) ((type *) ((char *) (o) - XtOffsetOf(type, std)))

/* A get_constructor handler that refuses `new` (and
 * ReflectionClass::newInstance), the way the engine seals Closure: objects
 * of such classes only come from the module. */
zend_function *ta_class_refuse_new(zend_object *obj);

/* Gives a class its generated register_class_*() registered (final,
 * without dynamic properties, not serializable: its stub says so) its
 * objects: they come from `create`; `h` gets the standard handlers with
 * the zend_object at `offset`, `free_obj` (NULL: the standard one), no
 * clone and, if `sealed_new`, ta_class_refuse_new. From MINIT. */
void ta_class_set_handlers(zend_class_entry *ce, zend_object *(*create)(zend_class_entry *),
                           zend_object_handlers *h, size_t offset,
                           void (*free_obj)(zend_object *), bool sealed_new);

/* For a create_object handler: a new struct of `size` bytes ending in its
 * zend_object (at h->offset, as ta_class_set_handlers set it), the
 * fields before it zeroed, the object given `ce`'s properties and the
 * handlers `h`. */
void *ta_object_new(size_t size, zend_class_entry *ce, const zend_object_handlers *h);

/* An exception's class, message, file and line for a log line: "" for no
 * message, "?" for no file, 0 for no line. Valid while `ex` lives. */
typedef struct {
    const char *cls, *message, *file;
    zend_long line;
    zval rv[3];                 /* read_property's scratch */
} ta_exception_info;

void ta_exception_info_get(zend_object *ex, ta_exception_info *out);

#endif
