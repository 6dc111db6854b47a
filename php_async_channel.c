/* Async\Channel: values handed between coroutines, buffered up to a
 * capacity, senders and receivers waiting in FIFO order. */
#include "php_async_objects.h"

zend_object_handlers ta_h_channel;

#define CHAN_OBJ(o) OBJ_OF(ta_channel_obj, o)
#define CHAN_THIS() CHAN_OBJ(Z_OBJ_P(ZEND_THIS))

zend_object *ta_channel_create(zend_class_entry *ce)
{
    ta_channel_obj *o = ta_object_new(sizeof *o, ce, &ta_h_channel);
    return &o->std;
}

void ta_channel_free(zend_object *obj)
{
    ta_channel_obj *o = CHAN_OBJ(obj);
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

static void throw_closed(void)
{
    zend_throw_exception(ta_ce_channel_exception, "Channel is closed", 0);
}

ZEND_METHOD(Async_Channel, __construct)
{
    zend_long capacity = 0;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(capacity)
    ZEND_PARSE_PARAMETERS_END();
    if (capacity < 0) {
        zend_argument_value_error(1, "must be greater than or equal to 0");
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
}

ZEND_METHOD(Async_Channel, send)
{
    zval *value;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(value)
    ZEND_PARSE_PARAMETERS_END();
    ta_channel_obj *o = CHAN_THIS();
    if (o->closed) { throw_closed(); RETURN_THROWS(); }
    ta_chan_waiter *r = wl_pop(&o->receivers);
    if (r) {
        ZVAL_COPY(&r->value, value);
        r->done = true;
        ta_coro_wake(r->co);
        return;
    }
    if (o->count < o->capacity) {
        chan_grow(o);
        ZVAL_COPY(&o->buf[(o->head + o->count) % o->buf_cap], value);
        o->count++;
        return;
    }
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "Channel::send() would block outside a coroutine");
        RETURN_THROWS();
    }
    ta_chan_waiter w = { .co = co };
    ZVAL_COPY(&w.value, value);
    wl_push(&o->senders, &w);
    /* keep the channel alive while we sit in its list */
    GC_ADDREF(&o->std);
    zend_result rc = ta_coro_wait(NULL, NULL);
    if (!w.done) { wl_remove(&o->senders, &w); zval_ptr_dtor(&w.value); }
    bool closed_meanwhile = !w.done && o->closed && rc == SUCCESS;
    OBJ_RELEASE(&o->std);
    if (rc == FAILURE) RETURN_THROWS();
    if (closed_meanwhile) { throw_closed(); RETURN_THROWS(); }
}

ZEND_METHOD(Async_Channel, recv)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_channel_obj *o = CHAN_THIS();
    if (o->count > 0) {
        ZVAL_COPY_VALUE(return_value, &o->buf[o->head]);
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
        return;
    }
    ta_chan_waiter *s = wl_pop(&o->senders);
    if (s) {
        ZVAL_COPY_VALUE(return_value, &s->value);
        s->done = true;
        ta_coro_wake(s->co);
        return;
    }
    if (o->closed) { throw_closed(); RETURN_THROWS(); }
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "Channel::recv() would block outside a coroutine");
        RETURN_THROWS();
    }
    ta_chan_waiter w = { .co = co };
    ZVAL_UNDEF(&w.value);
    wl_push(&o->receivers, &w);
    GC_ADDREF(&o->std);
    zend_result rc = ta_coro_wait(NULL, NULL);
    if (!w.done) wl_remove(&o->receivers, &w);
    OBJ_RELEASE(&o->std);
    if (w.done) {
        if (rc == FAILURE) { zval_ptr_dtor(&w.value); RETURN_THROWS(); }
        RETURN_COPY_VALUE(&w.value);
    }
    if (rc == FAILURE) RETURN_THROWS();
    throw_closed();
    RETURN_THROWS();
}

ZEND_METHOD(Async_Channel, close)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_channel_obj *o = CHAN_THIS();
    if (o->closed) return;
    o->closed = true;
    ta_chan_waiter *w;
    while ((w = wl_pop(&o->receivers))) ta_coro_wake(w->co);
    while ((w = wl_pop(&o->senders))) ta_coro_wake(w->co);
}

ZEND_METHOD(Async_Channel, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(CHAN_THIS()->closed); }
ZEND_METHOD(Async_Channel, count) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->count); }
ZEND_METHOD(Async_Channel, capacity) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->capacity); }
