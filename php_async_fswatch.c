/* Async\FileSystemWatcher and Async\FileSystemEvent, as php-async defines
 * them: changes under a path (the reactor's filesystem event: inotify),
 * queued as FileSystemEvent objects and handed out by foreach until the
 * watcher is closed; optionally merged per file (coalesce), filtered by
 * extension, and held back until the changes settle (debounceMs, at most
 * maxHoldMs). */
#include "php_async_objects.h"
#include "php_async_scope.h"
#include "php_async_register.h"
#include "php_async_iter.h"
#include "reactor_apr.h"
#include <zend_interfaces.h>
#include <time.h>
#include "stubs/php_async_fswatch_arginfo.h"

zend_class_entry *ta_ce_fs_watcher, *ta_ce_fs_event;
static zend_object_handlers h_watcher;

typedef struct {
    zend_async_event_callback_t base;
    struct ta_watcher_obj *w;   /* not held: the watcher stops its events when it goes */
} watch_cb;

typedef struct ta_watcher_obj {
    zend_string *path;
    bool constructed, closed, coalesce;
    zend_long debounce_ms, max_hold_ms;
    HashTable *extensions;      /* lower-case extension => true; NULL: all */
    zend_async_filesystem_event_t *ev;
    zend_async_timer_event_t *timer;   /* debounce */
    uint32_t generation;
    HashTable queue;            /* FileSystemEvent objects, oldest first */
    uint64_t first_pending_ms, last_event_ms;
    bool held;                  /* the queue waits for the changes to settle */
    ta_awaitable waiters;
    zend_object std;
} ta_watcher_obj;

#define WATCHER(o) OBJ_OF(ta_watcher_obj, o)

static void wake(ta_watcher_obj *o)
{
    for (uint32_t i = 0; i < o->waiters.n; i++) ta_coro_wake(o->waiters.waiters[i]);
    o->waiters.n = 0;
}

static void stop_event(ta_watcher_obj *o, zend_async_event_t **slot)
{
    zend_async_event_t *ev = *slot;
    if (!ev) return;
    *slot = NULL;
    if (o->generation == ta_async_reactor_generation()) {
        ev->stop(ev);
        ZEND_ASYNC_EVENT_RELEASE(ev);
    }
}

static void watcher_close(ta_watcher_obj *o)
{
    if (o->closed) return;
    o->closed = true;
    o->held = false;
    stop_event(o, (zend_async_event_t **) &o->ev);
    stop_event(o, (zend_async_event_t **) &o->timer);
    wake(o);
}

static zend_object *watcher_create(zend_class_entry *ce)
{
    ta_watcher_obj *o = ta_object_new(sizeof *o, ce, &h_watcher);
    zend_hash_init(&o->queue, 4, NULL, ZVAL_PTR_DTOR, 0);
    return &o->std;
}

static void watcher_free(zend_object *obj)
{
    ta_watcher_obj *o = WATCHER(obj);
    watcher_close(o);
    zend_hash_destroy(&o->queue);
    if (o->extensions) { zend_hash_destroy(o->extensions); FREE_HASHTABLE(o->extensions); }
    if (o->path) zend_string_release(o->path);
    if (o->waiters.waiters) efree(o->waiters.waiters);
    zend_object_std_dtor(obj);
}

static void set_prop(zend_object *ev, const char *name, zval *v)
{
    zend_update_property(ta_ce_fs_event, ev, name, strlen(name), v);
}

static zend_object *new_event(zend_string *path, zend_string *filename, bool renamed, bool changed)
{
    zval z, v;
    object_init_ex(&z, ta_ce_fs_event);
    zend_class_entry *old = EG(fake_scope);
    EG(fake_scope) = ta_ce_fs_event;     /* readonly: written once, from its own scope */
    ZVAL_STR_COPY(&v, path); set_prop(Z_OBJ(z), "path", &v); zval_ptr_dtor(&v);
    if (filename) ZVAL_STR_COPY(&v, filename); else ZVAL_NULL(&v);
    set_prop(Z_OBJ(z), "filename", &v); zval_ptr_dtor(&v);
    ZVAL_BOOL(&v, renamed); set_prop(Z_OBJ(z), "renamed", &v);
    ZVAL_BOOL(&v, changed); set_prop(Z_OBJ(z), "changed", &v);
    EG(fake_scope) = old;
    return Z_OBJ(z);
}

static bool wanted(ta_watcher_obj *o, zend_string *filename)
{
    if (!o->extensions) return true;
    if (!filename) return false;
    const char *dot = strrchr(ZSTR_VAL(filename), '.');
    if (!dot || !dot[1]) return false;
    zend_string *ext = zend_string_tolower(zend_string_init(dot + 1, strlen(dot + 1), 0));
    bool yes = zend_hash_exists(o->extensions, ext);
    zend_string_release(ext);
    return yes;
}

static void debounce_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex);
static void cb_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev) { (void) ev; efree(cb); }

/* (Re)arms the timer that releases the queue once the changes settle. */
static void arm_debounce(ta_watcher_obj *o)
{
    stop_event(o, (zend_async_event_t **) &o->timer);
    zend_long wait = o->debounce_ms;
    if (o->max_hold_ms > 0) {
        int64_t left = (int64_t) o->max_hold_ms - (int64_t) (ta_now_ms() - o->first_pending_ms);
        if (left < wait) wait = left > 0 ? left : 1;
    }
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT((zend_ulong) wait, false);
    if (!t) { zend_clear_exception(); o->held = false; wake(o); return; }
    watch_cb *cb = ecalloc(1, sizeof *cb);
    cb->base.callback = debounce_fire;
    cb->base.dispose = cb_dispose;
    cb->w = o;
    t->base.add_callback(&t->base, &cb->base);
    t->base.start(&t->base);
    if (EG(exception)) { zend_clear_exception(); ZEND_ASYNC_EVENT_RELEASE(&t->base); o->held = false; wake(o); return; }
    o->timer = t;
}

static void debounce_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    ta_watcher_obj *o = ((watch_cb *) cb)->w;
    if (!o) return;
    o->held = false;
    wake(o);
}

static void fs_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) result; (void) ex;
    ta_watcher_obj *o = ((watch_cb *) cb)->w;
    if (!o || o->closed) return;
    zend_async_filesystem_event_t *fe = (zend_async_filesystem_event_t *) ev;
    zend_string *name = fe->triggered_filename;
    if (!wanted(o, name)) return;
    bool renamed = fe->triggered_events & ZEND_ASYNC_FS_EVENT_RENAME;
    bool changed = fe->triggered_events & ZEND_ASYNC_FS_EVENT_CHANGE;
    /* the reactor's strings are persistent: the request gets its own */
    name = name ? zend_string_init(ZSTR_VAL(name), ZSTR_LEN(name), 0) : NULL;
    zend_string *key = name ? zend_string_copy(name) : ZSTR_EMPTY_ALLOC();
    zval *have = o->coalesce ? zend_hash_find(&o->queue, key) : NULL;
    if (have) {
        /* one event per file while it waits: the kinds of change merged */
        zend_object *old = Z_OBJ_P(have);
        zval rv;
        renamed |= zend_is_true(zend_read_property(ta_ce_fs_event, old, ZEND_STRL("renamed"), 1, &rv));
        changed |= zend_is_true(zend_read_property(ta_ce_fs_event, old, ZEND_STRL("changed"), 1, &rv));
        zval z;
        ZVAL_OBJ(&z, new_event(o->path, name, renamed, changed));
        zend_hash_update(&o->queue, key, &z);
    } else {
        zval z;
        ZVAL_OBJ(&z, new_event(o->path, name, renamed, changed));
        if (o->coalesce) zend_hash_add_new(&o->queue, key, &z);
        else zend_hash_next_index_insert(&o->queue, &z);
    }
    zend_string_release(key);
    if (name) zend_string_release(name);
    uint64_t now = ta_now_ms();
    if (!o->held) o->first_pending_ms = now;
    o->last_event_ms = now;
    if (o->debounce_ms > 0) { o->held = true; arm_debounce(o); }
    else wake(o);
}

/* {{{ FileSystemWatcher::__construct(string $path, bool $recursive = false, bool $coalesce = true,
 *     int $debounceMs = 0, int $maxHoldMs = 0, array $extensions = []) */
ZEND_METHOD(Async_FileSystemWatcher, __construct)
{
    zend_string *path;
    bool recursive = false, coalesce = true;
    zend_long debounce = 0, max_hold = 0;
    HashTable *exts = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 6)
        Z_PARAM_PATH_STR(path)
        Z_PARAM_OPTIONAL
        Z_PARAM_BOOL(recursive)
        Z_PARAM_BOOL(coalesce)
        Z_PARAM_LONG(debounce)
        Z_PARAM_LONG(max_hold)
        Z_PARAM_ARRAY_HT(exts)
    ZEND_PARSE_PARAMETERS_END();
    if (debounce < 0) { zend_argument_value_error(4, "must be greater than or equal to 0"); RETURN_THROWS(); }
    if (max_hold < 0) { zend_argument_value_error(5, "must be greater than or equal to 0"); RETURN_THROWS(); }
    ta_watcher_obj *o = WATCHER(Z_OBJ_P(ZEND_THIS));
    if (o->constructed) { zend_throw_error(NULL, "Async\\FileSystemWatcher object is already constructed"); RETURN_THROWS(); }
    if (!ta_async_loop_ok()) RETURN_THROWS();
    if (exts && zend_hash_num_elements(exts)) {
        ALLOC_HASHTABLE(o->extensions);
        zend_hash_init(o->extensions, zend_hash_num_elements(exts), NULL, NULL, 0);
        zval *e;
        ZEND_HASH_FOREACH_VAL(exts, e) {
            if (Z_TYPE_P(e) != IS_STRING) { zend_argument_type_error(6, "must contain only strings"); RETURN_THROWS(); }
            const char *s = Z_STRVAL_P(e);
            if (*s == '.') s++;
            zend_string *k = zend_string_tolower(zend_string_init(s, strlen(s), 0));
            zend_hash_add_empty_element(o->extensions, k);
            zend_string_release(k);
        } ZEND_HASH_FOREACH_END();
    }
    zend_async_filesystem_event_t *ev = ZEND_ASYNC_NEW_FILESYSTEM_EVENT(path, recursive ? ZEND_ASYNC_FS_EVENT_RECURSIVE : 0);
    if (!ev) RETURN_THROWS();
    watch_cb *cb = ecalloc(1, sizeof *cb);
    cb->base.callback = fs_fire;
    cb->base.dispose = cb_dispose;
    cb->w = o;
    ev->base.add_callback(&ev->base, &cb->base);
    ev->base.start(&ev->base);
    if (EG(exception)) { ZEND_ASYNC_EVENT_RELEASE(&ev->base); RETURN_THROWS(); }
    o->ev = ev;
    o->generation = ta_async_reactor_generation();
    o->path = zend_string_copy(path);
    o->coalesce = coalesce;
    o->debounce_ms = debounce;
    o->max_hold_ms = max_hold;
    o->constructed = true;
}

ZEND_METHOD(Async_FileSystemWatcher, close) { ZEND_PARSE_PARAMETERS_NONE(); watcher_close(WATCHER(Z_OBJ_P(ZEND_THIS))); }
ZEND_METHOD(Async_FileSystemWatcher, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(WATCHER(Z_OBJ_P(ZEND_THIS))->closed); }

/* ---- foreach ------------------------------------------------------------------ */

static bool watcher_pull(zend_object *obj, zval *value, zval *key)
{
    (void) key;
    ta_watcher_obj *o = WATCHER(obj);
    for (;;) {
        if (zend_hash_num_elements(&o->queue) && !o->held) {
            HashPosition pos;
            zend_hash_internal_pointer_reset_ex(&o->queue, &pos);
            ZVAL_COPY(value, zend_hash_get_current_data_ex(&o->queue, &pos));
            zend_string *k; zend_ulong idx;
            if (zend_hash_get_current_key_ex(&o->queue, &k, &idx, &pos) == HASH_KEY_IS_STRING) zend_hash_del(&o->queue, k);
            else zend_hash_index_del(&o->queue, idx);
            return true;
        }
        if (o->closed || !o->constructed) return false;
        ta_coro *co = ta_coro_current();
        if (!co) { zend_throw_error(NULL, "A FileSystemWatcher can only be iterated inside a coroutine"); return false; }
        GC_ADDREF(&o->std);
        ta_aw_add(&o->waiters, co);
        zend_result rc = ta_coro_wait(NULL, NULL);
        ta_aw_remove(&o->waiters, co);
        OBJ_RELEASE(&o->std);
        if (rc == FAILURE) return false;
    }
}

static zend_object_iterator *watcher_get_iterator(zend_class_entry *ce, zval *object, int by_ref)
{
    (void) ce;
    return ta_pull_iterator(object, by_ref, watcher_pull);
}

ZEND_METHOD(Async_FileSystemWatcher, getIterator)
{
    ZEND_PARSE_PARAMETERS_NONE();
    zend_create_internal_iterator_zval(return_value, ZEND_THIS);
}

/* ---- registration ------------------------------------------------------------------ */

static zend_object_handlers h_event;

static zend_object *event_create(zend_class_entry *ce)
{
    zend_object *o = zend_objects_new(ce);
    object_properties_init(o, ce);
    o->handlers = &h_event;
    return o;
}

void ta_fswatch_register(void)
{
    /* events only come from a watcher */
    ta_ce_fs_event = register_class_Async_FileSystemEvent();
    ta_class_set_handlers(ta_ce_fs_event, event_create, &h_event, 0, NULL, true);
    ta_ce_fs_watcher = register_class_Async_FileSystemWatcher(ta_ce_awaitable, zend_ce_aggregate);
    ta_class_set_handlers(ta_ce_fs_watcher, watcher_create, &h_watcher, XtOffsetOf(ta_watcher_obj, std),
                          watcher_free, false);
    ta_ce_fs_watcher->get_iterator = watcher_get_iterator;
}
