/* Thread events: entry(arg) on the libuv thread pool, then one
 * notification on the loop thread. Made by the contract's new_thread_event
 * slot. The request template they share with DNS is in reactor_event.c. */
#include "reactor_event.h"

typedef struct {
    zend_async_thread_event_t event;
    ta_req_ev rq;
    uv_work_t req;
} ta_thread;

TA_EV_METHODS(thread, ta_thread, rq.ev)

/* On a pool thread: only the entry's own data may be touched here. */
static void thread_work(uv_work_t *req)
{
    ta_thread *t = (ta_thread *) ((ta_ev *) req->data)->event;
    t->event.result = t->event.entry(t->event.arg);
}

static void thread_done(uv_work_t *req, int status)
{
    ta_ev *ev = req->data;
    bool notify;
    if (!ta_req_finished(ev, status, &notify)) return;
    if (notify) ta_ev_notify(ev, ((ta_thread *) ev->event)->event.result);
}

static int thread_submit(ta_ev *ev)
{
    ta_thread *t = (ta_thread *) ev->event;
    return uv_queue_work(&ev->reactor->loop, &t->req, thread_work, thread_done);
}

static void thread_error(ta_ev *ev, int err, bool thrown)
{
    if (thrown) zend_throw_error(NULL, "Failed to queue work: %s", ta_ev_strerror(err));
    else ta_ev_notify_error(ev, ta_ce_async_exception, err, "Failed to queue work: %s", ta_ev_strerror(err));
}

static const ta_req_ops thread_ops = TA_REQ_OPS(thread, NULL);

zend_async_thread_event_t *ta_thread_new(zend_async_thread_entry_t entry, void *arg, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("thread event");
    if (!r) return NULL;
    if (entry == NULL) {
        zend_throw_error(NULL, "Failed to create thread event: %s", ta_ev_strerror(UV_EINVAL));
        return NULL;
    }
    ta_thread *t = ta_ev_alloc(sizeof *t, extra_size);
    ta_req_init(&t->rq, &t->event.base, sizeof *t, &thread_ops, (uv_req_t *) &t->req);
    t->event.entry = entry;
    t->event.arg = arg;
    ta_ev_link(&t->rq.ev, r);
    return &t->event;
}
