/* The class boilerplate of the module's PHP classes (see php_class.h). */
#include "php_class.h"

zend_function *ta_class_refuse_new(zend_object *obj)
{
    zend_throw_error(NULL, "Instantiation of class %s is not allowed", ZSTR_VAL(obj->ce->name));
    return NULL;
}

void ta_class_set_handlers(zend_class_entry *ce, zend_object *(*create)(zend_class_entry *),
                           zend_object_handlers *h, size_t offset,
                           void (*free_obj)(zend_object *), bool sealed_new)
{
    ce->create_object = create;
    memcpy(h, zend_get_std_object_handlers(), sizeof *h);
    h->offset = (int) offset;
    if (free_obj) h->free_obj = free_obj;
    h->clone_obj = NULL;
    if (sealed_new) h->get_constructor = ta_class_refuse_new;
}

void *ta_object_new(size_t size, zend_class_entry *ce, const zend_object_handlers *h)
{
    char *mem = zend_object_alloc(size, ce);
    zend_object *std = (zend_object *) (mem + h->offset);
    zend_object_std_init(std, ce);
    object_properties_init(std, ce);
    std->handlers = h;
    return mem;
}

void ta_exception_info_get(zend_object *ex, ta_exception_info *out)
{
    zend_class_entry *base = zend_get_exception_base(ex);
    zval *msg = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_MESSAGE), 1, &out->rv[0]);
    zval *file = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_FILE), 1, &out->rv[1]);
    zval *line = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_LINE), 1, &out->rv[2]);
    out->cls = ZSTR_VAL(ex->ce->name);
    out->message = Z_TYPE_P(msg) == IS_STRING ? Z_STRVAL_P(msg) : "";
    out->file = Z_TYPE_P(file) == IS_STRING ? Z_STRVAL_P(file) : "?";
    out->line = Z_TYPE_P(line) == IS_LONG ? Z_LVAL_P(line) : 0;
}
