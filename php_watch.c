#include "php_watch.h"

static void file_changed(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result;
    if (!ex) ((ta_file_watch *) cb)->changed = true;
}

void ta_file_watch_start(ta_file_watch *fw)
{
    memset(fw, 0, sizeof *fw);
    fw->cb.callback = file_changed;
    uint32_t n = zend_hash_num_elements(&EG(included_files));
    if (!n || !(fw->evs = calloc(n, sizeof *fw->evs))) return;
    zend_string *path;
    ZEND_HASH_FOREACH_STR_KEY(&EG(included_files), path) {
        if (!path || fw->n == (int) n) continue;
        zend_async_filesystem_event_t *ev = ZEND_ASYNC_NEW_FILESYSTEM_EVENT(path, 0);
        if (!ev) { zend_clear_exception(); continue; }
        ev->base.add_callback(&ev->base, &fw->cb);
        ev->base.start(&ev->base);
        if (EG(exception)) {
            zend_clear_exception();
            ZEND_ASYNC_EVENT_RELEASE(&ev->base);
            continue;
        }
        fw->evs[fw->n++] = ev;
    } ZEND_HASH_FOREACH_END();
}

void ta_file_watch_release(ta_file_watch *fw, bool abandoned)
{
    if (!abandoned)
        for (int i = 0; i < fw->n; i++) ZEND_ASYNC_EVENT_RELEASE(&fw->evs[i]->base);
    free(fw->evs);
    fw->evs = NULL;
    fw->n = 0;
}

void ta_file_watch_invalidate(ta_file_watch *fw)
{
    zend_function *fn = zend_hash_str_find_ptr(EG(function_table), ZEND_STRL("opcache_invalidate"));
    if (!fn) return;
    for (int i = 0; i < fw->n; i++) {
        zval args[2], rv;
        ZVAL_STRINGL(&args[0], ZSTR_VAL(fw->evs[i]->path), ZSTR_LEN(fw->evs[i]->path));
        ZVAL_TRUE(&args[1]);
        ZVAL_UNDEF(&rv);
        zend_call_known_function(fn, NULL, NULL, &rv, 2, args, NULL);
        zval_ptr_dtor(&args[0]);
        zval_ptr_dtor(&rv);
        if (EG(exception)) zend_clear_exception();
    }
}
