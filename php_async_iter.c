/* The pulling iterator behind foreach over Channel, TaskGroup, TaskSet and
 * FileSystemWatcher (see php_async_iter.h). */
#include "php_async_iter.h"

typedef struct {
    zend_object_iterator it;
    ta_pull_fn pull;
    zval current, key;
    zend_long index;
    bool fetched, end;
} pull_iter;

static void fetch(pull_iter *p)
{
    if (p->fetched) return;
    p->fetched = true;
    zval_ptr_dtor(&p->current);
    zval_ptr_dtor(&p->key);
    ZVAL_UNDEF(&p->current);
    ZVAL_UNDEF(&p->key);
    if (!p->pull(Z_OBJ(p->it.data), &p->current, &p->key)) { p->end = true; return; }
    if (Z_ISUNDEF(p->key)) ZVAL_LONG(&p->key, p->index);
    p->index++;
}

static void it_dtor(zend_object_iterator *it)
{
    pull_iter *p = (pull_iter *) it;
    zval_ptr_dtor(&p->current);
    zval_ptr_dtor(&p->key);
    zval_ptr_dtor(&it->data);
}
static zend_result it_valid(zend_object_iterator *it) { pull_iter *p = (pull_iter *) it; fetch(p); return p->end ? FAILURE : SUCCESS; }
static zval *it_current(zend_object_iterator *it) { pull_iter *p = (pull_iter *) it; fetch(p); return &p->current; }
static void it_key(zend_object_iterator *it, zval *key) { pull_iter *p = (pull_iter *) it; fetch(p); ZVAL_COPY(key, &p->key); }
static void it_next(zend_object_iterator *it) { ((pull_iter *) it)->fetched = false; }
/* a second foreach goes on where the first stopped: what was taken is gone */
static void it_rewind(zend_object_iterator *it) { (void) it; }
static HashTable *it_gc(zend_object_iterator *it, zval **table, int *n)
{
    pull_iter *p = (pull_iter *) it;
    zend_get_gc_buffer *buf = zend_get_gc_buffer_create();
    zend_get_gc_buffer_add_zval(buf, &it->data);
    zend_get_gc_buffer_add_zval(buf, &p->current);
    zend_get_gc_buffer_add_zval(buf, &p->key);
    zend_get_gc_buffer_use(buf, table, n);
    return NULL;
}

static const zend_object_iterator_funcs funcs = {
    it_dtor, it_valid, it_current, it_key, it_next, it_rewind, NULL, it_gc,
};

zend_object_iterator *ta_pull_iterator(zval *object, int by_ref, ta_pull_fn pull)
{
    if (by_ref) {
        zend_throw_error(NULL, "An object of class %s cannot be iterated by reference", ZSTR_VAL(Z_OBJCE_P(object)->name));
        return NULL;
    }
    pull_iter *p = ecalloc(1, sizeof *p);
    zend_iterator_init(&p->it);
    ZVAL_OBJ_COPY(&p->it.data, Z_OBJ_P(object));
    p->it.funcs = &funcs;
    p->pull = pull;
    ZVAL_UNDEF(&p->current);
    ZVAL_UNDEF(&p->key);
    return &p->it;
}
