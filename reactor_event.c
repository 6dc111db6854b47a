/* What every event family of the reactor shares: allocation, the list of
 * a reactor's events, the counted start/stop, dispose and the deferred
 * free, notification, and the request template of the thread-pool events. */
#include "reactor_event.h"

#include <stdarg.h>
#include <string.h>

#define TA_ALIGN(n) (((n) + _Alignof(max_align_t) - 1) & ~(size_t) (_Alignof(max_align_t) - 1))

/* ---- memory and the reactor's list ------------------------------------------ */

void *ta_ev_alloc(size_t impl_size, size_t extra_size)
{
    return pecalloc(1, TA_ALIGN(impl_size) + extra_size, 1);
}

void ta_ev_init(ta_ev *ev, zend_async_event_t *e, size_t impl_size, const ta_ev_ops *ops)
{
    e->ref_count = 1;
    /* Rounded up so any extension data is suitably aligned. */
    e->extra_offset = (uint32_t) TA_ALIGN(impl_size);
    e->add_callback = zend_async_event_add_callback;
    e->del_callback = zend_async_event_del_callback;
    e->start = ops->start;
    e->stop = ops->stop;
    e->dispose = ops->dispose;
    ev->event = e;
    ev->ops = ops;
}

void ta_ev_link(ta_ev *ev, ta_reactor *r)
{
    ev->reactor = r;
    ev->prev = NULL;
    ev->next = r->events;
    if (r->events) r->events->prev = ev;
    r->events = ev;
}

void ta_ev_unlink(ta_ev *ev)
{
    if (!ev->reactor) return;
    if (ev->prev) ev->prev->next = ev->next; else ev->reactor->events = ev->next;
    if (ev->next) ev->next->prev = ev->prev;
    ev->prev = ev->next = NULL;
    ev->reactor = NULL;
}

static void ev_cleanup(ta_ev *ev)
{
    if (ev->ops->cleanup) ev->ops->cleanup(ev);
}

static void ev_free(ta_ev *ev)
{
    ta_ev_unlink(ev);
    ev_cleanup(ev);
    pefree(ev->event, 1);
}

void ta_ev_maybe_free(ta_ev *ev)
{
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(ev->event) && ev->pending == 0) ev_free(ev);
}

void ta_ev_abandon(ta_ev *ev)
{
    zend_async_event_t *e = ev->event;
    if (e->callbacks.data) pefree(e->callbacks.data, 1);
    e->callbacks.data = NULL;
    e->callbacks.length = e->callbacks.capacity = 0;
    ev_cleanup(ev);
    pefree(e, 1);
}

static void ev_handle_closed(uv_handle_t *h)
{
    ta_ev *ev = h->data;
    ev->pending--;
    ta_ev_maybe_free(ev);
}

void ta_ev_adopt(ta_ev *ev, uv_handle_t *h)
{
    h->data = ev;
    ev->pending++;
}

void ta_ev_close(uv_handle_t *h)
{
    if (!uv_is_closing(h)) uv_close(h, ev_handle_closed);
}

/* ---- the lifecycle methods ---------------------------------------------------- */

void ta_ev_start(ta_ev *ev)
{
    zend_async_event_t *e = ev->event;
    EVENT_START_PROLOGUE(e);
    if (!ev->ops->arm(ev)) return;
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

void ta_ev_stop(ta_ev *ev)
{
    zend_async_event_t *e = ev->event;
    EVENT_STOP_PROLOGUE(e);
    ev->ops->disarm(ev);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

void ta_ev_stop_all(zend_async_event_t *e)
{
    if (e->loop_ref_count > 0) {
        e->loop_ref_count = 1;
        e->stop(e);
    }
}

void ta_ev_dispose(ta_ev *ev)
{
    zend_async_event_t *e = ev->event;
    if (ZEND_ASYNC_EVENT_REF(e) > 1) {
        ZEND_ASYNC_EVENT_DEL_REF(e);
        return;
    }
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(e)) return;
    e->ref_count = 0;
    e->flags |= ZEND_ASYNC_EVENT_F_DISPOSED;
    ta_ev_stop_all(e);
    zend_async_callbacks_free(e);
    if (ev->reactor) ev->ops->release_uv(ev);
    ta_ev_maybe_free(ev);
}

/* ---- notification ---------------------------------------------------------------- */

bool ta_ev_can_notify(ta_ev *ev)
{
    return !ZEND_ASYNC_EVENT_IS_DISPOSED(ev->event) && ev->reactor && !ev->reactor->stopping;
}

void ta_ev_notify(ta_ev *ev, void *result)
{
    if (!ta_ev_can_notify(ev)) return;
    ev->reactor->delivered++;
    zend_async_callbacks_notify(ev->event, result, NULL);
}

void ta_ev_notify_error(ta_ev *ev, zend_class_entry *ce, int uv_err, const char *format, ...)
{
    if (!ta_ev_can_notify(ev)) return;
    va_list ap;
    va_start(ap, format);
    zend_string *msg = zend_vstrpprintf(0, format, ap);
    va_end(ap);
    zend_object *ex = ta_async_new_exception(ce, uv_err, "%s", ZSTR_VAL(msg));
    zend_string_release(msg);
    ev->reactor->delivered++;
    zend_async_callbacks_notify(ev->event, NULL, ex);
    OBJ_RELEASE(ex);
}

bool ta_ev_started(int rc, const char *format, ...)
{
    if (rc >= 0) return true;
    va_list ap;
    va_start(ap, format);
    zend_string *what = zend_vstrpprintf(0, format, ap);
    va_end(ap);
    zend_throw_error(NULL, "%s: %s", ZSTR_VAL(what), ta_ev_strerror(rc));
    zend_string_release(what);
    return false;
}

/* uv_strerror() would malloc (and leak) a string for an errno it does not
 * map, such as ECHILD from waitpid(). */
const char *ta_ev_strerror(int err)
{
    switch (err) {
#define TA_UV_CASE(code, _) case UV_##code:
    UV_ERRNO_MAP(TA_UV_CASE)
#undef TA_UV_CASE
        return uv_strerror(err);
    default:
        return strerror(-err);
    }
}

/* ---- requests on the thread pool --------------------------------------------------- */

static const ta_req_ops *req_ops(ta_ev *ev) { return (const ta_req_ops *) ev->ops; }

void ta_req_init(ta_req_ev *q, zend_async_event_t *e, size_t impl_size, const ta_req_ops *ops, uv_req_t *req)
{
    ta_ev_init(&q->ev, e, impl_size, &ops->base);
    q->req = req;
}

static int req_submit(ta_req_ev *q)
{
    q->req->data = &q->ev;
    int rc = req_ops(&q->ev)->submit(&q->ev);
    if (rc == 0) {
        q->in_flight = true;
        q->ev.pending++;
    }
    return rc;
}

bool ta_req_arm(ta_ev *ev)
{
    ta_req_ev *q = (ta_req_ev *) ev;
    if (q->in_flight) return true;
    int rc = req_submit(q);
    if (rc < 0) {
        req_ops(ev)->error(ev, rc, true);
        return false;
    }
    return true;
}

/* Fails once the request runs: it finishes, unreported. */
void ta_req_cancel(ta_ev *ev)
{
    ta_req_ev *q = (ta_req_ev *) ev;
    if (q->in_flight) uv_cancel(q->req);
}

bool ta_req_finished(ta_ev *ev, int status, bool *notify)
{
    ta_req_ev *q = (ta_req_ev *) ev;
    zend_async_event_t *e = ev->event;
    q->in_flight = false;
    ev->pending--;
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(e)) {
        ta_ev_maybe_free(ev);
        return false;
    }
    if (status == UV_ECANCELED) {
        /* Cancelled by stop(); started again since, so run it after all. */
        if (e->loop_ref_count > 0 && ta_ev_can_notify(ev)) {
            int rc = req_submit(q);
            if (rc < 0) {
                ta_ev_stop_all(e);
                req_ops(ev)->error(ev, rc, false);
            }
        }
        return false;
    }
    bool active = e->loop_ref_count > 0;
    ZEND_ASYNC_EVENT_SET_CLOSED(e);
    ta_ev_stop_all(e);
    if (status < 0) {
        if (active) req_ops(ev)->error(ev, status, false);
        return false;
    }
    *notify = active;
    return true;
}
