/* Async\Channel: values handed between coroutines, buffered up to a
 * capacity, senders and receivers waiting in FIFO order; foreach over it
 * until it is closed, waits bounded by a cancellation token, and php-async's
 * deadlock timeouts (no producer / no consumer for so long closes it). */
#include "php_async_objects.h"
#include "php_async_scope.h"
#include "php_async_register.h"
#include "php_async_iter.h"
#include "reactor_apr.h"
#include <zend_enum.h>
#include <zend_interfaces.h>
#include "stubs/php_async_channel_arginfo.h"

zend_class_entry *ta_ce_channel;
static zend_class_entry *ce_close_reason;
static zend_object_handlers h_channel;

typedef struct ta_chan_waiter {
    ta_coro *co;
    zval value;                 /* sender: what it sends; receiver: what it got */
    bool done;                  /* handed over */
    struct ta_chan_waiter *next;
} ta_chan_waiter;

typedef struct ta_channel_obj ta_channel_obj;

/* A deadlock timer: fires when one side has waited that long with nobody
 * coming from the other. */
typedef struct {
    zend_async_event_callback_t base;
    ta_channel_obj *chan;       /* not held: the channel stops the timer when it goes */
    const char *reason;
} chan_timer_cb;

struct ta_channel_obj {
    zend_long capacity;
    zval *buf;                  /* a ring of buf_cap slots, grown up to capacity */
    zend_long buf_cap, head, count;
    bool constructed, closed;
    const char *close_reason;   /* a ChannelCloseReason case */
    zend_long no_producer_ms, no_consumer_ms;
    zend_async_timer_event_t *producer_timer, *consumer_timer;
    uint32_t generation;        /* the reactor's, when the timers were made */
    ta_chan_waiter *senders, *receivers;   /* FIFO lists */
    uint32_t handing;           /* values handed to receivers not yet running */
    /* the Scope it was made in (not held: checked to be alive by handle) */
    zend_object *owner;
    uint32_t owner_handle;
    zend_object std;
};

#define CHAN_OBJ(o) OBJ_OF(ta_channel_obj, o)
#define CHAN_THIS() CHAN_OBJ(Z_OBJ_P(ZEND_THIS))

static void timer_stop(ta_channel_obj *o, zend_async_timer_event_t **t)
{
    if (!*t) return;
    if (o->generation == ta_async_reactor_generation()) {
        (*t)->base.stop(&(*t)->base);
        ZEND_ASYNC_EVENT_RELEASE(&(*t)->base);
    }
    *t = NULL;
}

static zend_object *channel_create(zend_class_entry *ce)
{
    ta_channel_obj *o = ta_object_new(sizeof *o, ce, &h_channel);
    return &o->std;
}

static void channel_free(zend_object *obj)
{
    ta_channel_obj *o = CHAN_OBJ(obj);
    timer_stop(o, &o->producer_timer);
    timer_stop(o, &o->consumer_timer);
    for (zend_long i = 0; i < o->count; i++) zval_ptr_dtor(&o->buf[(o->head + i) % o->buf_cap]);
    if (o->buf) efree(o->buf);
    zend_object_std_dtor(obj);
}

static void wl_push(ta_chan_waiter **list, ta_chan_waiter *w)
{
    w->next = NULL;
    while (*list) list = &(*list)->next;
    *list = w;
}

static ta_chan_waiter *wl_pop(ta_chan_waiter **list)
{
    ta_chan_waiter *w = *list;
    if (w) *list = w->next;
    return w;
}

static void wl_remove(ta_chan_waiter **list, ta_chan_waiter *w)
{
    for (; *list; list = &(*list)->next) if (*list == w) { *list = w->next; return; }
}

/* Room for one more value (count < capacity): the ring is allocated as it
 * fills, so a large capacity costs nothing until it is used. */
static void chan_grow(ta_channel_obj *o)
{
    if (o->count < o->buf_cap) return;
    zend_long cap = o->buf_cap ? (o->buf_cap > o->capacity / 2 ? o->capacity : o->buf_cap * 2) : 16;
    if (cap > o->capacity) cap = o->capacity;
    zval *buf = safe_emalloc((size_t) cap, sizeof(zval), 0);
    for (zend_long i = 0; i < o->count; i++) ZVAL_COPY_VALUE(&buf[i], &o->buf[(o->head + i) % o->buf_cap]);
    if (o->buf) efree(o->buf);
    o->buf = buf;
    o->buf_cap = cap;
    o->head = 0;
}

/* A value handed to a receiver that never took it (cancelled before it
 * ran): the next receiver gets it, else it goes back to the front of the
 * buffer, even past the capacity (it was sent already). Takes `value`. */
static void chan_give_back(ta_channel_obj *o, zval *value)
{
    ta_chan_waiter *r = wl_pop(&o->receivers);
    if (r) {
        ZVAL_COPY_VALUE(&r->value, value);
        r->done = true;
        o->handing++;
        ta_coro_wake(r->co);
        return;
    }
    if (o->count == o->buf_cap) {
        zend_long cap = o->buf_cap ? o->buf_cap * 2 : 1;
        zval *buf = safe_emalloc((size_t) cap, sizeof(zval), 0);
        for (zend_long i = 0; i < o->count; i++) ZVAL_COPY_VALUE(&buf[i], &o->buf[(o->head + i) % o->buf_cap]);
        if (o->buf) efree(o->buf);
        o->buf = buf;
        o->buf_cap = cap;
        o->head = 0;
    }
    o->head = (o->head + o->buf_cap - 1) % o->buf_cap;
    ZVAL_COPY_VALUE(&o->buf[o->head], value);
    o->count++;
}

static void throw_closed(ta_channel_obj *o)
{
    bool scope_gone = o->close_reason && !strcmp(o->close_reason, "SCOPE_DISPOSED");
    zend_object *ex = ta_async_new_exception(ta_ce_channel_exception, 0,
                                             scope_gone ? "Channel closed: owner scope disposed" : "Channel is closed");
    zend_object *reason = zend_enum_get_case_cstr(ce_close_reason, o->close_reason ? o->close_reason : "EXPLICIT");
    zval z;
    ZVAL_OBJ(&z, reason);
    zend_update_property(ta_ce_channel_exception, ex, ZEND_STRL("reason"), &z);
    zend_throw_exception_object(&(zval){ .value.obj = ex, .u1.type_info = IS_OBJECT_EX });
}

static void chan_close(ta_channel_obj *o, const char *reason)
{
    if (o->closed) return;
    o->closed = true;
    o->close_reason = reason;
    timer_stop(o, &o->producer_timer);
    timer_stop(o, &o->consumer_timer);
    ta_chan_waiter *w;
    while ((w = wl_pop(&o->receivers))) ta_coro_wake(w->co);
    while ((w = wl_pop(&o->senders))) ta_coro_wake(w->co);
}

/* ---- deadlock timeouts ------------------------------------------------------------ */

static void timer_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    chan_timer_cb *t = (chan_timer_cb *) cb;
    if (t->chan) chan_close(t->chan, t->reason);
}

static void timer_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev)
{
    (void) ev;
    efree(cb);
}

/* (Re)starts one side's timer while coroutines wait on that side. */
static void timer_arm(ta_channel_obj *o, zend_async_timer_event_t **slot, zend_long ms, const char *reason)
{
    timer_stop(o, slot);
    if (ms <= 0 || o->closed || !zend_async_reactor_is_enabled() || !ta_reactor_loop()) return;
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT((zend_ulong) ms, false);
    if (!t) { zend_clear_exception(); return; }
    chan_timer_cb *cb = ecalloc(1, sizeof *cb);
    cb->base.callback = timer_fire;
    cb->base.dispose = timer_dispose;
    cb->chan = o;
    cb->reason = reason;
    t->base.add_callback(&t->base, &cb->base);
    t->base.start(&t->base);
    if (EG(exception)) { zend_clear_exception(); ZEND_ASYNC_EVENT_RELEASE(&t->base); return; }
    o->generation = ta_async_reactor_generation();
    *slot = t;
}

/* Activity on a side: a timer runs only while the other side waits. */
static void timers_update(ta_channel_obj *o, bool produced, bool consumed)
{
    if (produced || !o->receivers) {
        if (o->receivers) timer_arm(o, &o->producer_timer, o->no_producer_ms, "NO_PRODUCERS");
        else timer_stop(o, &o->producer_timer);
    }
    if (consumed || !o->senders) {
        if (o->senders) timer_arm(o, &o->consumer_timer, o->no_consumer_ms, "NO_CONSUMERS");
        else timer_stop(o, &o->consumer_timer);
    }
}

/* ---- send and receive ------------------------------------------------------------ */

/* The optional token of send()/recv(); false with an exception if it is
 * not one the module can wait on. */
static bool token_of(zend_object *token, ta_awaitable **out)
{
    *out = NULL;
    if (!token) return true;
    *out = ta_awaitable_of(token);
    if (*out) return true;
    if (!EG(exception)) zend_argument_type_error(2, "must be an awaitable made by the module");
    return false;
}

/* The Scope it was made in is still there and was disposed. */
static bool owner_disposed(ta_channel_obj *o)
{
    if (!o->owner || o->owner_handle >= EG(objects_store).top) return false;
    zend_object *at = EG(objects_store).object_buckets[o->owner_handle];
    return IS_OBJ_VALID(at) && at == o->owner && ta_scope_is_disposed(o->owner);
}

/* Waits in `list` until handed over, closed, cancelled or the token fired. */
static zend_result chan_wait(ta_channel_obj *o, ta_chan_waiter **list, ta_chan_waiter *w,
                             zend_object *token, ta_awaitable *tk)
{
    if (tk && tk->done) { ta_throw_cancelled(token); return FAILURE; }
    wl_push(list, w);
    bool first = *list == w && !w->next;
    if (list == &o->receivers && first && o->no_producer_ms > 0 && !o->producer_timer)
        timer_arm(o, &o->producer_timer, o->no_producer_ms, "NO_PRODUCERS");
    if (list == &o->senders && first && o->no_consumer_ms > 0 && !o->consumer_timer)
        timer_arm(o, &o->consumer_timer, o->no_consumer_ms, "NO_CONSUMERS");
    if (tk) ta_aw_add(tk, w->co);
    /* keep the channel alive while we sit in its list */
    GC_ADDREF(&o->std);
    zend_result rc = ta_coro_wait(NULL, NULL);
    if (tk) ta_aw_remove(tk, w->co);
    if (rc == FAILURE && !w->done && owner_disposed(o) && EG(exception)
        && instanceof_function(EG(exception)->ce, ta_ce_async_cancellation)) {
        /* php-async: the Scope it belongs to was disposed: it closes, and
         * its waiters hear why */
        zend_clear_exception();
        if (!w->done) wl_remove(list, w);
        chan_close(o, "SCOPE_DISPOSED");
        throw_closed(o);
    }
    if (!w->done) wl_remove(list, w);
    if (!o->closed) timers_update(o, false, false);
    if (rc == SUCCESS && !w->done && !o->closed && tk && tk->done) { ta_throw_cancelled(token); rc = FAILURE; }
    OBJ_RELEASE(&o->std);
    return rc;
}

/* 1: sent; 0: would wait (try only); -1: an exception is thrown. */
static int chan_send(ta_channel_obj *o, zval *value, zend_object *token, bool try_only)
{
    for (;;) {
        if (o->closed) { if (try_only) return 0; throw_closed(o); return -1; }
        /* unbuffered: one value in hand-over at a time (php-async's
         * rendezvous slot); the next sender waits until it is taken */
        ta_chan_waiter *r = o->capacity || !o->handing ? wl_pop(&o->receivers) : NULL;
        if (r) {
            ZVAL_COPY(&r->value, value);
            r->done = true;
            o->handing++;
            ta_coro_wake(r->co);
            timers_update(o, true, false);
            return 1;
        }
        if (o->count < o->capacity) {
            chan_grow(o);
            ZVAL_COPY(&o->buf[(o->head + o->count) % o->buf_cap], value);
            o->count++;
            return 1;
        }
        if (try_only) return 0;
        ta_awaitable *tk;
        if (!token_of(token, &tk)) return -1;
        ta_coro *co = ta_coro_current();
        if (!co) {
            zend_throw_error(NULL, "Channel::send() would block outside a coroutine");
            return -1;
        }
        ta_chan_waiter w = { .co = co };
        ZVAL_COPY(&w.value, value);
        zend_result rc = chan_wait(o, &o->senders, &w, token, tk);
        if (w.done) return rc == FAILURE ? -1 : 1;
        zval_ptr_dtor(&w.value);
        if (rc == FAILURE) return -1;
        /* closed, or woken to try again: the hand-over slot is free */
    }
}

/* A receiver took the value handed to it: an unbuffered channel's next
 * sender may hand over its own. */
static void chan_taken(ta_channel_obj *o)
{
    if (o->handing) o->handing--;
    if (o->handing || o->capacity || !o->receivers) return;
    ta_chan_waiter *s = wl_pop(&o->senders);
    if (s) ta_coro_wake(s->co);
}

/* 1: `out` has a value; 0: would wait (try only); -1: an exception is thrown
 * (ChannelException once it is closed and empty). */
static int chan_recv(ta_channel_obj *o, zval *out, zend_object *token, bool try_only)
{
    if (o->count > 0) {
        ZVAL_COPY_VALUE(out, &o->buf[o->head]);
        o->head = (o->head + 1) % o->buf_cap;
        o->count--;
        ta_chan_waiter *s = wl_pop(&o->senders);
        if (s) {
            /* the slot just emptied takes it */
            ZVAL_COPY_VALUE(&o->buf[(o->head + o->count) % o->buf_cap], &s->value);
            o->count++;
            s->done = true;
            ta_coro_wake(s->co);
        }
        timers_update(o, false, true);
        return 1;
    }
    ta_chan_waiter *s = wl_pop(&o->senders);
    if (s) {
        ZVAL_COPY_VALUE(out, &s->value);
        s->done = true;
        ta_coro_wake(s->co);
        timers_update(o, false, true);
        return 1;
    }
    if (o->closed) { if (try_only) return 0; throw_closed(o); return -1; }
    if (try_only) return 0;
    ta_awaitable *tk;
    if (!token_of(token, &tk)) return -1;
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "Channel::recv() would block outside a coroutine");
        return -1;
    }
    ta_chan_waiter w = { .co = co };
    ZVAL_UNDEF(&w.value);
    zend_result rc = chan_wait(o, &o->receivers, &w, token, tk);
    if (w.done) {
        if (rc == FAILURE) {
            if (o->handing) o->handing--;
            chan_give_back(o, &w.value);
            return -1;
        }
        chan_taken(o);
        ZVAL_COPY_VALUE(out, &w.value);
        return 1;
    }
    if (rc == FAILURE) return -1;
    throw_closed(o);
    return -1;
}

/* ---- methods ------------------------------------------------------------------ */

ZEND_METHOD(Async_Channel, __construct)
{
    zend_long capacity = 0, no_producer = 0, no_consumer = 0;
    bool hard = false;
    ZEND_PARSE_PARAMETERS_START(0, 4)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(capacity)
        Z_PARAM_LONG(no_producer)
        Z_PARAM_LONG(no_consumer)
        Z_PARAM_BOOL(hard)
    ZEND_PARSE_PARAMETERS_END();
    (void) hard;    /* one kind of timer here: a running timer keeps the loop awake */
    zend_long limits[] = { capacity, no_producer, no_consumer };
    for (int i = 0; i < 3; i++)
        if (limits[i] < 0 || limits[i] > INT32_MAX) {
            zend_argument_value_error(i + 1, "must be between 0 and %d", INT32_MAX);    /* php-async's words */
            RETURN_THROWS();
        }
    ta_channel_obj *o = CHAN_THIS();
    /* Its ring and waiters depend on the capacity it was made with. */
    if (o->constructed) {
        zend_throw_error(NULL, "Async\\Channel object is already constructed");
        RETURN_THROWS();
    }
    o->constructed = true;
    o->capacity = capacity;
    o->no_producer_ms = no_producer;
    o->no_consumer_ms = no_consumer;
    ta_coro *co = ta_coro_current();
    o->owner = co ? ta_scope_of(co, false) : NULL;
    if (o->owner) o->owner_handle = o->owner->handle;
}

ZEND_METHOD(Async_Channel, send)
{
    zval *value;
    zend_object *token = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_ZVAL(value)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(token, ta_ce_completable)
    ZEND_PARSE_PARAMETERS_END();
    if (chan_send(CHAN_THIS(), value, token, false) < 0) RETURN_THROWS();
}

/* {{{ Channel::sendAsync(mixed $value): bool — sent now, or false (full or closed) */
ZEND_METHOD(Async_Channel, sendAsync)
{
    zval *value;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(value)
    ZEND_PARSE_PARAMETERS_END();
    int rc = chan_send(CHAN_THIS(), value, NULL, true);
    if (rc < 0) RETURN_THROWS();
    RETURN_BOOL(rc == 1);
}

ZEND_METHOD(Async_Channel, recv)
{
    zend_object *token = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(token, ta_ce_completable)
    ZEND_PARSE_PARAMETERS_END();
    if (chan_recv(CHAN_THIS(), return_value, token, false) < 0) RETURN_THROWS();
}

/* {{{ Channel::recvAsync(): Future — completed now if a value is there,
 * else by a coroutine that waits for one */
ZEND_METHOD(Async_Channel, recvAsync)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_channel_obj *o = CHAN_THIS();
    zval v;
    int rc = chan_recv(o, &v, NULL, true);
    if (rc == 1) { RETVAL_OBJ(ta_future_completed(&v, NULL)); zval_ptr_dtor(&v); return; }
    zval cb;
    array_init(&cb);
    Z_ADDREF_P(ZEND_THIS);
    add_next_index_zval(&cb, ZEND_THIS);
    add_next_index_string(&cb, "recv");
    zend_object *f = ta_future_from_call(&cb, 0, NULL);
    zval_ptr_dtor(&cb);
    if (!f) RETURN_THROWS();
    RETURN_OBJ(f);
}

ZEND_METHOD(Async_Channel, close) { ZEND_PARSE_PARAMETERS_NONE(); chan_close(CHAN_THIS(), "EXPLICIT"); }
ZEND_METHOD(Async_Channel, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(CHAN_THIS()->closed); }
ZEND_METHOD(Async_Channel, count) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->count); }
ZEND_METHOD(Async_Channel, capacity) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->capacity); }
ZEND_METHOD(Async_Channel, isEmpty) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(CHAN_THIS()->count == 0); }
ZEND_METHOD(Async_Channel, isFull) { ZEND_PARSE_PARAMETERS_NONE(); ta_channel_obj *o = CHAN_THIS(); RETURN_BOOL(o->count >= o->capacity); }

/* ---- foreach: receives until the channel is closed and empty -------------------- */

static bool channel_pull(zend_object *obj, zval *value, zval *key)
{
    (void) key;
    ta_channel_obj *o = CHAN_OBJ(obj);
    if (chan_recv(o, value, NULL, false) == 1) return true;
    /* the end of the channel is the end of the loop, not an error */
    if (EG(exception) && instanceof_function(EG(exception)->ce, ta_ce_channel_exception) && o->closed)
        zend_clear_exception();
    return false;
}

static zend_object_iterator *channel_get_iterator(zend_class_entry *ce, zval *object, int by_ref)
{
    (void) ce;
    return ta_pull_iterator(object, by_ref, channel_pull);
}

ZEND_METHOD(Async_Channel, getIterator)
{
    ZEND_PARSE_PARAMETERS_NONE();
    zend_create_internal_iterator_zval(return_value, ZEND_THIS);
}

/* ---- registration ------------------------------------------------------------------ */

void ta_channel_register(void)
{
    ce_close_reason = register_class_Async_ChannelCloseReason();
    ce_close_reason->ce_flags |= ZEND_ACC_FINAL;    /* as enums declared in PHP are (8.2's gen_stub.php omits it) */
    ta_ce_channel = register_class_Async_Channel(ta_ce_awaitable, zend_ce_aggregate, zend_ce_countable);
    ta_class_set_handlers(ta_ce_channel, channel_create, &h_channel, XtOffsetOf(ta_channel_obj, std),
                          channel_free, false);
    /* foreach goes straight to the channel (getIterator() wraps the same) */
    ta_ce_channel->get_iterator = channel_get_iterator;
}
