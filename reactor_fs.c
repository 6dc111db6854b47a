/* Filesystem events: a uv_fs_event (inotify) on a path, firing on every
 * change. Made by the contract's new_filesystem_event slot. */
#include "reactor_event.h"

#include <string.h>

typedef struct {
    zend_async_filesystem_event_t event;
    ta_ev ev;
    uv_fs_event_t handle;
} ta_fs;

TA_EV_METHODS(fs, ta_fs, ev)

static void fs_changed(uv_fs_event_t *h, const char *filename, int events, int status)
{
    ta_ev *ev = h->data;
    ta_fs *f = (ta_fs *) ev->event;
    if (status < 0) {
        ta_ev_stop_all(&f->event.base);
        ta_ev_notify_error(ev, ta_ce_input_output_exception, status, "Watching %s failed: %s",
                           ZSTR_VAL(f->event.path), ta_ev_strerror(status));
        return;
    }
    if (f->event.triggered_filename) zend_string_release(f->event.triggered_filename);
    f->event.triggered_filename = filename ? zend_string_init(filename, strlen(filename), 1) : NULL;
    f->event.triggered_events = (unsigned int) events;
    ta_ev_notify(ev, &f->event);
}

static bool fs_arm(ta_ev *ev)
{
    ta_fs *f = (ta_fs *) ev->event;
    int rc = uv_fs_event_start(&f->handle, fs_changed, ZSTR_VAL(f->event.path),
                               f->event.flags & UV_FS_EVENT_RECURSIVE);
    return ta_ev_started(rc, "Failed to watch %s", ZSTR_VAL(f->event.path));
}

static void fs_disarm(ta_ev *ev) { uv_fs_event_stop(&((ta_fs *) ev->event)->handle); }

static void fs_release_uv(ta_ev *ev) { ta_ev_close((uv_handle_t *) &((ta_fs *) ev->event)->handle); }

static void fs_cleanup(ta_ev *ev)
{
    ta_fs *f = (ta_fs *) ev->event;
    zend_string_release(f->event.path);
    if (f->event.triggered_filename) zend_string_release(f->event.triggered_filename);
}

static const ta_ev_ops fs_ops = {
    fs_arm, fs_disarm, fs_release_uv, fs_cleanup,
    fs_start, fs_stop, fs_dispose
};

zend_async_filesystem_event_t *ta_fs_new(zend_string *path, const unsigned int flags, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("filesystem event");
    if (!r) return NULL;
    if (path == NULL || ZSTR_LEN(path) == 0) {
        zend_throw_error(NULL, "Failed to create filesystem event: %s", ta_ev_strerror(UV_EINVAL));
        return NULL;
    }
    ta_fs *f = ta_ev_alloc(sizeof *f, extra_size);
    ta_ev_init(&f->ev, &f->event.base, sizeof *f, &fs_ops);
    int rc = uv_fs_event_init(&r->loop, &f->handle);
    if (rc < 0) {
        pefree(f, 1);
        zend_throw_error(NULL, "Failed to create filesystem event: %s", ta_ev_strerror(rc));
        return NULL;
    }
    /* Persistent copy: the caller's string may belong to the request. */
    f->event.path = zend_string_init(ZSTR_VAL(path), ZSTR_LEN(path), 1);
    f->event.flags = flags;
    ta_ev_adopt(&f->ev, (uv_handle_t *) &f->handle);
    ta_ev_link(&f->ev, r);
    return &f->event;
}
