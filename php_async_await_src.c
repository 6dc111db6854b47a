/* The awaitables an await_*() function takes, with their keys. An array's
 * are taken at once. A Traversable (a Generator, an Iterator) is consumed
 * as php-async does: by a coroutine of its own (iterate()'s machinery, in a
 * scope below the caller's) while the caller already waits, so a Generator
 * that suspends or throws does so there, and what it yielded so far may
 * complete the wait before it is exhausted. */
#include "php_async_objects.h"
#include "php_async_scope.h"

/* php-async's message for what is no awaitable */
static void not_awaitable(void)
{
    if (!EG(exception)) zend_type_error("Expected an iterable of Async\\Awaitable");
}

static void src_add(ta_await_src *src, zend_object *obj, zval *key)
{
    if (src->n == src->cap) {
        src->cap = src->cap ? src->cap * 2 : 8;
        src->objs = erealloc(src->objs, src->cap * sizeof *src->objs);
        src->keys = erealloc(src->keys, src->cap * sizeof *src->keys);
    }
    GC_ADDREF(obj);
    src->objs[src->n] = obj;
    if (Z_TYPE_P(key) == IS_NULL) ZVAL_LONG(&src->keys[src->n], src->next_index);
    else ZVAL_COPY(&src->keys[src->n], key);
    if (Z_TYPE(src->keys[src->n]) == IS_LONG && Z_LVAL(src->keys[src->n]) >= src->next_index)
        src->next_index = Z_LVAL(src->keys[src->n]) + 1;
    src->n++;
}

/* The consuming coroutine's handler: one element. */
static void src_element(void *data, zval *value, zval *key)
{
    ta_await_src *src = data;
    if (Z_TYPE_P(value) != IS_OBJECT || !ta_awaitable_of(Z_OBJ_P(value))) { not_awaitable(); return; }
    if (Z_TYPE_P(key) != IS_STRING && Z_TYPE_P(key) != IS_LONG && Z_TYPE_P(key) != IS_NULL) {
        /* php-async's words; such a key has no place in the results */
        zend_throw_exception(ta_ce_async_exception, "Invalid key type: must be string, long or null", 0);
        return;
    }
    src_add(src, Z_OBJ_P(value), key);
    ta_aw_complete(&src->news);
}

static void src_finish(void *data, zend_object *error)
{
    ta_await_src *src = data;
    src->done = true;
    if (error) { src->error = error; GC_ADDREF(error); }
    ta_aw_complete(&src->news);
    ta_await_src_release(src);
}

static bool src_from_array(ta_await_src *src, HashTable *ht)
{
    zend_string *k;
    zend_ulong idx;
    zval *v;
    ZEND_HASH_FOREACH_KEY_VAL(ht, idx, k, v) {
        ZVAL_DEREF(v);
        if (Z_TYPE_P(v) != IS_OBJECT || !ta_awaitable_of(Z_OBJ_P(v))) { not_awaitable(); return false; }
        zval key;
        if (k) ZVAL_STR(&key, k); else ZVAL_LONG(&key, (zend_long) idx);
        src_add(src, Z_OBJ_P(v), &key);
    } ZEND_HASH_FOREACH_END();
    src->done = true;
    return true;
}

ta_await_src *ta_await_src_new(zval *iterable)
{
    ta_await_src *src = ecalloc(1, sizeof *src);
    src->refs = 1;
    bool ok;
    if (Z_TYPE_P(iterable) == IS_ARRAY) {
        ok = src_from_array(src, Z_ARRVAL_P(iterable));
    } else {
        src->refs++;            /* the consuming coroutine's, given back by src_finish */
        ok = ta_iterate_start(iterable, 32, src_element, src_finish, src);     /* php-async's default concurrency */
        if (!ok) src->refs--;
    }
    if (ok) return src;
    ta_await_src_release(src);
    return NULL;
}

void ta_await_src_release(ta_await_src *src)
{
    if (--src->refs) return;
    for (uint32_t i = 0; i < src->n; i++) {
        OBJ_RELEASE(src->objs[i]);
        zval_ptr_dtor(&src->keys[i]);
    }
    if (src->objs) efree(src->objs);
    if (src->keys) efree(src->keys);
    if (src->error) OBJ_RELEASE(src->error);
    if (src->news.waiters) efree(src->news.waiters);
    efree(src);
}

ta_awaitable *ta_await_src_news(ta_await_src *src)
{
    if (src->done) return NULL;
    src->news.done = false;
    return &src->news;
}
