/* Async\Channel: values handed between coroutines, buffered up to a
 * capacity, senders and receivers waiting in FIFO order; foreach over it
 * until it is closed, waits bounded by a cancellation token, and php-async's
 * deadlock timeouts (no producer / no consumer for so long closes it). It
 * closes when the Scope it was made in is cancelled, disposed or destroyed. */
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

/* A coroutine waiting in send() or recv(), on its own stack. */
typedef struct ta_chan_waiter {
    ta_coro *co;
    bool queued;                /* in its side's list */
    bool reserved;              /* a value (receiver) or a free slot (sender) is kept for it */
    bool delivering;            /* unbuffered sender whose value sits in the slot for a taker */
    bool delivered;             /* ... and a receiver took it */
    struct ta_chan_waiter *next;
} ta_chan_waiter;

enum { RECV, SEND };

typedef struct ta_channel_obj ta_channel_obj;

/* Why it closed: ChannelCloseReason's cases and php-async's message for each. */
enum { R_EXPLICIT, R_DISPOSED, R_NO_PRODUCERS, R_NO_CONSUMERS, R_DEADLOCK, R_SCOPE_DISPOSED };
static const struct { const char *name, *message; } reasons[] = {
    [R_EXPLICIT] = { "EXPLICIT", "Channel is closed" },
    [R_DISPOSED] = { "DISPOSED", "Channel disposed" },
    [R_NO_PRODUCERS] = { "NO_PRODUCERS", "Channel deadlock: no producers" },
    [R_NO_CONSUMERS] = { "NO_CONSUMERS", "Channel deadlock: no consumers" },
    [R_DEADLOCK] = { "DEADLOCK", "Channel deadlock" },
    [R_SCOPE_DISPOSED] = { "SCOPE_DISPOSED", "Channel closed: owner scope disposed" },
};

/* The deadlock timer: fires when one side has waited that long with nobody
 * coming from the other. */
typedef struct {
    zend_async_event_callback_t base;
    ta_channel_obj *chan;       /* not held: the channel stops the timer when it goes */
    int reason;
} chan_timer_cb;

/* php-async's model: a value (or free slot) made available while someone
 * waits is reserved for the oldest waiter, who is woken and takes it when it
 * runs; until then nobody else may. An unbuffered channel has one slot: a
 * sender puts its value there and waits until a receiver took it, unless a
 * woken receiver is already promised it. */
struct ta_channel_obj {
    zend_long capacity;
    zval *buf;                  /* a ring of buf_cap slots, grown up to capacity (or 1) */
    zend_long buf_cap, head, count;
    bool constructed, closed;
    bool committed;             /* unbuffered: the value in the slot is promised to a woken receiver */
    int close_reason;           /* R_* */
    zend_long no_producer_ms, no_consumer_ms;
    zend_async_timer_event_t *timer;
    int timer_reason;
    uint32_t generation;        /* the reactor's, when the timer was made */
    ta_chan_waiter *waiters[2]; /* RECV, SEND: FIFO lists */
    uint32_t n_waiting[2], n_reserved[2];
    ta_scope_watch owner;       /* on the Scope it was made in, until that one ends */
    zend_object std;
};

#define CHAN_OBJ(o) OBJ_OF(ta_channel_obj, o)
#define CHAN_THIS() CHAN_OBJ(Z_OBJ_P(ZEND_THIS))

static void timer_stop(ta_channel_obj *o)
{
    if (!o->timer) return;
    if (o->generation == ta_async_reactor_generation()) {
        o->timer->base.stop(&o->timer->base);
        ZEND_ASYNC_EVENT_RELEASE(&o->timer->base);
    }
    o->timer = NULL;
}

static zend_object *channel_create(zend_class_entry *ce)
{
    ta_channel_obj *o = ta_object_new(sizeof *o, ce, &h_channel);
    return &o->std;
}

static void channel_free(zend_object *obj)
{
    ta_channel_obj *o = CHAN_OBJ(obj);
    ta_scope_watch_remove(&o->owner);
    timer_stop(o);
    for (zend_long i = 0; i < o->count; i++) zval_ptr_dtor(&o->buf[(o->head + i) % o->buf_cap]);
    if (o->buf) efree(o->buf);
    zend_object_std_dtor(obj);
}

static void wl_push(ta_channel_obj *o, int side, ta_chan_waiter *w)
{
    ta_chan_waiter **at = &o->waiters[side];
    while (*at) at = &(*at)->next;
    *at = w;
    w->next = NULL;
    w->queued = true;
    o->n_waiting[side]++;
}

static void wl_remove(ta_channel_obj *o, int side, ta_chan_waiter *w)
{
    for (ta_chan_waiter **at = &o->waiters[side]; *at; at = &(*at)->next)
        if (*at == w) { *at = w->next; w->queued = false; o->n_waiting[side]--; return; }
}

/* The oldest waiter of a side with nothing promised and no value parked. */
static ta_chan_waiter *first_unreserved(ta_channel_obj *o, int side)
{
    for (ta_chan_waiter *w = o->waiters[side]; w; w = w->next) if (!w->reserved && !w->delivering) return w;
    return NULL;
}

static zend_long slots(const ta_channel_obj *o) { return o->capacity ? o->capacity : 1; }
/* A value (a slot) nobody woken has been promised. */
static bool free_value(const ta_channel_obj *o) { return o->count > (zend_long) o->n_reserved[RECV]; }
static bool free_slot(const ta_channel_obj *o) { return slots(o) - o->count > (zend_long) o->n_reserved[SEND]; }

/* Adds a copy at the back; the ring grows as it fills, so a large capacity
 * costs nothing until it is used. */
static void chan_push(ta_channel_obj *o, zval *value)
{
    if (o->count == o->buf_cap) {
        zend_long cap = o->buf_cap ? (o->buf_cap > slots(o) / 2 ? slots(o) : o->buf_cap * 2) : 16;
        if (cap > slots(o)) cap = slots(o);
        zval *buf = safe_emalloc((size_t) cap, sizeof(zval), 0);
        for (zend_long i = 0; i < o->count; i++) ZVAL_COPY_VALUE(&buf[i], &o->buf[(o->head + i) % o->buf_cap]);
        if (o->buf) efree(o->buf);
        o->buf = buf;
        o->buf_cap = cap;
        o->head = 0;
    }
    ZVAL_COPY(&o->buf[(o->head + o->count) % o->buf_cap], value);
    o->count++;
}

static void chan_take(ta_channel_obj *o, zval *out)
{
    ZVAL_COPY_VALUE(out, &o->buf[o->head]);
    o->head = (o->head + 1) % o->buf_cap;
    o->count--;
    o->committed = false;
}

static void throw_closed(ta_channel_obj *o)
{
    zend_object *ex = ta_async_new_exception(ta_ce_channel_exception, 0, "%s", reasons[o->close_reason].message);
    zend_object *reason = zend_enum_get_case_cstr(ce_close_reason, reasons[o->close_reason].name);
    zval z;
    ZVAL_OBJ(&z, reason);
    zend_update_property(ta_ce_channel_exception, ex, ZEND_STRL("reason"), &z);
    zend_throw_exception_object(&(zval){ .value.obj = ex, .u1.type_info = IS_OBJECT_EX });
}

/* ---- deadlock timeouts ------------------------------------------------------------ */

static void chan_close(ta_channel_obj *o, int reason);

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

static void timer_arm(ta_channel_obj *o, zend_long ms, int reason)
{
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
    o->timer = t;
    o->timer_reason = reason;
}

/* The timer runs while one side starves (waits with nothing promised), from
 * when it began to: a waiter that got its value or slot ends it. */
static void timer_refresh(ta_channel_obj *o)
{
    bool recv = o->n_waiting[RECV] > o->n_reserved[RECV], send = o->n_waiting[SEND] > o->n_reserved[SEND];
    if (!recv && !send) { timer_stop(o); return; }
    int reason = recv ? R_NO_PRODUCERS : R_NO_CONSUMERS;
    if (o->timer && o->timer_reason == reason) return;
    timer_stop(o);
    timer_arm(o, recv ? o->no_producer_ms : o->no_consumer_ms, reason);
}

/* ---- hand-over ------------------------------------------------------------------ */

/* A free value and a receiver waiting for one: the oldest is promised it and
 * woken (it stays queued until it runs and takes it). */
static bool wake_receiver(ta_channel_obj *o)
{
    ta_chan_waiter *w = free_value(o) ? first_unreserved(o, RECV) : NULL;
    if (!w) return false;
    w->reserved = true;
    o->n_reserved[RECV]++;
    ta_coro_wake(w->co);
    timer_refresh(o);
    return true;
}

/* A value was taken: an unbuffered sender parked on it hears so, and the
 * slot that frees goes to the oldest sender waiting for one. */
static void wake_sender(ta_channel_obj *o)
{
    if (!o->capacity && !o->count) {
        for (ta_chan_waiter *w = o->waiters[SEND]; w; w = w->next) {
            if (!w->delivering) continue;
            wl_remove(o, SEND, w);
            w->delivered = true;
            ta_coro_wake(w->co);
            break;
        }
    }
    ta_chan_waiter *w = free_slot(o) ? first_unreserved(o, SEND) : NULL;
    if (w) {
        w->reserved = true;
        o->n_reserved[SEND]++;
        ta_coro_wake(w->co);
    }
    timer_refresh(o);
}

/* Closed: every waiter wakes to hear it, but a receiver promised a value,
 * which takes it first. An unbuffered value nobody was promised is dropped:
 * its sender is told the channel closed. */
static void chan_close(ta_channel_obj *o, int reason)
{
    if (o->closed) return;
    o->closed = true;
    o->close_reason = reason;
    ta_scope_watch_remove(&o->owner);
    timer_stop(o);
    for (int side = RECV; side <= SEND; side++) {
        ta_chan_waiter *w = o->waiters[side], *next;
        for (; w; w = next) {
            next = w->next;
            if (side == RECV && w->reserved) continue;
            wl_remove(o, side, w);
            ta_coro_wake(w->co);
        }
    }
    if (!o->capacity && o->count && !o->committed) {
        zval v;
        chan_take(o, &v);
        zval_ptr_dtor(&v);
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

/* The Scope it was made in was cancelled, disposed or destroyed (php-async:
 * the scope's end closes it, and its waiters hear why). */
static void owner_ended(ta_scope_watch *w)
{
    ta_channel_obj *o = (ta_channel_obj *) ((char *) w - XtOffsetOf(ta_channel_obj, owner));
    chan_close(o, R_SCOPE_DISPOSED);
}

/* The coroutine that is to wait in send() or recv(), and the token bounding
 * its wait; NULL with an exception if it may not wait. */
static ta_coro *blocking_caller(zend_object *token, ta_awaitable **tk, const char *method)
{
    if (!token_of(token, tk)) return NULL;
    ta_coro *co = ta_coro_current();
    if (!co) zend_throw_error(NULL, "Channel::%s() would block outside a coroutine", method);
    return co;
}

/* After a wait: what it was promised and did not spend (cancelled), and an
 * unbuffered value nobody took, go to the next waiter. */
static void wait_settle(ta_channel_obj *o, int side, ta_chan_waiter *w, bool failed)
{
    bool was_queued = w->queued;
    if (was_queued) wl_remove(o, side, w);
    if (w->delivering && failed && was_queued && o->count && !o->committed) {
        zval v;
        chan_take(o, &v);   /* send() fails: its value must not reach anyone */
        zval_ptr_dtor(&v);
    }
    if (w->reserved) o->n_reserved[side]--;
    if (((w->delivering && was_queued) || (w->reserved && failed)) && !o->closed) {
        if (side == RECV) wake_receiver(o); else wake_sender(o);
    }
    timer_refresh(o);
}

/* Waits on a side until woken; true if it comes back with a reservation to
 * spend. FAILURE cases leave an exception pending. */
static bool chan_wait(ta_channel_obj *o, int side, ta_chan_waiter *w, zend_object *token, ta_awaitable *tk)
{
    if (tk && tk->done) { ta_throw_cancelled(token); return false; }
    wl_push(o, side, w);
    timer_refresh(o);
    if (tk) ta_aw_add(tk, w->co);
    /* keep the channel alive while we sit in its list */
    GC_ADDREF(&o->std);
    zend_result rc = ta_coro_wait(NULL, NULL);
    if (tk) ta_aw_remove(tk, w->co);
    if (rc == SUCCESS && !w->reserved && !w->delivered && !o->closed && tk && tk->done) {
        ta_throw_cancelled(token);
        rc = FAILURE;
    }
    wait_settle(o, side, w, rc == FAILURE);
    if (rc == FAILURE && o->closed && o->close_reason == R_SCOPE_DISPOSED && EG(exception)
        && instanceof_function(EG(exception)->ce, ta_ce_async_cancellation)) {
        /* its scope's end cancelled it and closed the channel: php-async
         * tells it the channel's reason */
        zend_clear_exception();
        throw_closed(o);
    }
    bool spent = w->reserved && rc == SUCCESS;
    OBJ_RELEASE(&o->std);
    return spent;
}

/* 1: sent; 0: would wait (try only); -1: an exception is thrown. */
static int chan_send(ta_channel_obj *o, zval *value, zend_object *token, bool try_only)
{
    ta_awaitable *tk;
    ta_coro *co;
    for (bool promised = false;;) {
        if (o->closed) { if (try_only) return 0; throw_closed(o); return -1; }
        if (promised || free_slot(o)) {
            if (!o->capacity && !try_only && !first_unreserved(o, RECV)) break;
            chan_push(o, value);
            if (wake_receiver(o)) o->committed = !o->capacity;
            return 1;
        }
        if (try_only) return 0;
        if (!(co = blocking_caller(token, &tk, "send"))) return -1;
        ta_chan_waiter w = { .co = co };
        promised = chan_wait(o, SEND, &w, token, tk);
        if (EG(exception)) return -1;
    }
    /* unbuffered, no receiver waiting: the value waits in the slot, and
     * send() until a receiver took it */
    if (!(co = blocking_caller(token, &tk, "send"))) return -1;
    if (tk && tk->done) { ta_throw_cancelled(token); return -1; }
    chan_push(o, value);
    ta_chan_waiter w = { .co = co, .delivering = true };
    chan_wait(o, SEND, &w, token, tk);
    if (EG(exception)) return -1;
    if (w.delivered) return 1;
    throw_closed(o);
    return -1;
}

/* 1: `out` has a value; 0: would wait (try only); -1: an exception is thrown
 * (ChannelException once it is closed and empty). */
static int chan_recv(ta_channel_obj *o, zval *out, zend_object *token, bool try_only)
{
    for (bool promised = false;;) {
        if (promised || free_value(o)) {
            chan_take(o, out);
            wake_sender(o);
            return 1;
        }
        if (o->closed) { if (try_only) return 0; throw_closed(o); return -1; }
        if (try_only) return 0;
        ta_awaitable *tk;
        ta_coro *co = blocking_caller(token, &tk, "recv");
        if (!co) return -1;
        ta_chan_waiter w = { .co = co };
        promised = chan_wait(o, RECV, &w, token, tk);
        if (EG(exception)) return -1;
    }
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
    zend_object *owner = co ? ta_scope_of(co, false) : NULL;
    o->owner.fire = owner_ended;
    if (owner && !ta_scope_is_cancelled(owner)) ta_scope_watch_add(owner, &o->owner);   /* one already over binds nothing */
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

ZEND_METHOD(Async_Channel, close) { ZEND_PARSE_PARAMETERS_NONE(); chan_close(CHAN_THIS(), R_EXPLICIT); }
ZEND_METHOD(Async_Channel, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(CHAN_THIS()->closed); }
ZEND_METHOD(Async_Channel, count) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->count); }
ZEND_METHOD(Async_Channel, capacity) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_LONG(CHAN_THIS()->capacity); }
ZEND_METHOD(Async_Channel, isEmpty) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(CHAN_THIS()->count == 0); }
ZEND_METHOD(Async_Channel, isFull) { ZEND_PARSE_PARAMETERS_NONE(); ta_channel_obj *o = CHAN_THIS(); RETURN_BOOL(o->count >= slots(o)); }

/* ---- foreach: receives until the channel is closed and empty -------------------- */

static bool channel_pull(zend_object *obj, zval *value, zval *key)
{
    (void) key;
    ta_channel_obj *o = CHAN_OBJ(obj);
    bool was_closed = o->closed;
    if (chan_recv(o, value, NULL, false) == 1) return true;
    /* A channel closed and drained ends the loop, as does a close() while
     * it waits; another reason that came while it waited (a deadlock
     * timeout, its scope's end) is thrown, as php-async does. */
    if (EG(exception) && instanceof_function(EG(exception)->ce, ta_ce_channel_exception) && o->closed
        && (was_closed || o->close_reason == R_EXPLICIT))
        zend_clear_exception();
    return false;
}

static zend_object_iterator *channel_get_iterator(zend_class_entry *ce, zval *object, int by_ref)
{
    (void) ce;
    if (by_ref) {
        zend_throw_error(NULL, "Cannot iterate channel by reference");     /* php-async's words */
        return NULL;
    }
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
