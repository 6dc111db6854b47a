/* Socket streams shared by the requests of a PHP thread: one request's
 * coroutines at a time (see php_stream_guard.h). The thread keeps a record
 * only for streams some coroutine holds or waits for, and a short list of
 * which coroutine holds what. */
#include "php_stream_guard.h"
#include "scheduler.h"

typedef struct sg_rec sg_rec;

typedef struct sg_waiter {
    ta_coro *co;
    sg_rec *rec;
    const void *owner;
    struct sg_waiter *next;
    int state;                  /* SG_WAITING, SG_GRANTED, SG_CLOSED */
} sg_waiter;

enum { SG_WAITING, SG_GRANTED, SG_CLOSED };

struct sg_rec {
    php_stream *stream;
    const void *owner;          /* the request (its scope) or coroutine using it */
    unsigned holds;             /* entries of tl_holds naming it */
    bool closing;
    sg_waiter *head, *tail;
};

typedef struct { sg_rec *rec; ta_coro *co; } sg_hold;

static __thread HashTable *tl_recs;         /* stream -> sg_rec */
static __thread sg_hold *tl_holds;
static __thread unsigned tl_nholds, tl_capholds;
static __thread php_stream *tl_waiting_on;  /* the next suspension is a wait on it */

/* Coroutines of one request share; a coroutine of no request is its own. */
static const void *owner_of(ta_coro *co) { return co->scope ? (const void *) co->scope : (const void *) co; }

static sg_rec *find(php_stream *stream)
{
    return tl_recs ? zend_hash_index_find_ptr(tl_recs, (zend_ulong) (uintptr_t) stream) : NULL;
}

static sg_rec *new_rec(php_stream *stream, const void *owner)
{
    if (!tl_recs) {
        tl_recs = malloc(sizeof *tl_recs);
        zend_hash_init(tl_recs, 8, NULL, NULL, 1);
    }
    sg_rec *rec = calloc(1, sizeof *rec);
    if (!rec) return NULL;
    rec->stream = stream;
    rec->owner = owner;
    zend_hash_index_update_ptr(tl_recs, (zend_ulong) (uintptr_t) stream, rec);
    return rec;
}

static void drop_rec(sg_rec *rec)
{
    zend_hash_index_del(tl_recs, (zend_ulong) (uintptr_t) rec->stream);
    free(rec);
}

static bool holds(sg_rec *rec, ta_coro *co)
{
    for (unsigned i = 0; i < tl_nholds; i++)
        if (tl_holds[i].rec == rec && tl_holds[i].co == co) return true;
    return false;
}

static bool add_hold(sg_rec *rec, ta_coro *co)
{
    if (tl_nholds == tl_capholds) {
        unsigned cap = tl_capholds ? tl_capholds * 2 : 16;
        sg_hold *h = realloc(tl_holds, cap * sizeof *h);
        if (!h) return false;
        tl_holds = h;
        tl_capholds = cap;
    }
    tl_holds[tl_nholds++] = (sg_hold) { rec, co };
    rec->holds++;
    return true;
}

/* The next waiter gets the stream, and with it every waiter of the same
 * request; with none left the record goes. */
static void grant_next(sg_rec *rec)
{
    sg_waiter *first = rec->head;
    if (!first) { drop_rec(rec); return; }
    rec->owner = first->owner;
    for (sg_waiter **p = &rec->head, *prev = NULL; *p;) {
        sg_waiter *w = *p;
        if (w->owner != rec->owner) { prev = w; p = &w->next; continue; }
        *p = w->next;
        if (rec->tail == w) rec->tail = prev;
        w->state = SG_GRANTED;
        add_hold(rec, w->co);
        ta_coro_wake(w->co);
    }
}

static void release_at(unsigned i)
{
    sg_rec *rec = tl_holds[i].rec;
    tl_holds[i] = tl_holds[--tl_nholds];
    if (--rec->holds == 0 && !rec->closing) grant_next(rec);
}

/* A coroutine suspends: it gives up what it holds, but for the stream it
 * is waiting on. */
static void on_suspend(ta_coro *co)
{
    php_stream *keep = tl_waiting_on;
    tl_waiting_on = NULL;
    for (unsigned i = tl_nholds; i-- > 0;)
        if (tl_holds[i].co == co && tl_holds[i].rec->stream != keep) release_at(i);
}

static void on_gone(ta_coro *co)
{
    for (unsigned i = tl_nholds; i-- > 0;)
        if (tl_holds[i].co == co) release_at(i);
}

/* A waiter cancelled (or unwound) before its turn leaves the queue. */
static void waiter_cancel(ta_coro *co, void *data)
{
    (void) co;
    sg_waiter *w = data;
    if (w->state != SG_WAITING) return;
    sg_rec *rec = w->rec;
    for (sg_waiter **p = &rec->head, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
        if (*p != w) continue;
        *p = w->next;
        if (rec->tail == w) rec->tail = prev;
        break;
    }
    w->state = SG_CLOSED;
}

int ta_stream_guard_enter(php_stream *stream)
{
    ta_coro *co = ta_coro_current();
    if (!co) return 0;
    const void *me = owner_of(co);
    sg_rec *rec = find(stream);
    if (!rec) {
        if ((rec = new_rec(stream, me)) && !add_hold(rec, co)) drop_rec(rec);
        return 0;
    }
    if (rec->closing) return -2;
    if (rec->owner == me) {
        if (!holds(rec, co)) add_hold(rec, co);
        return 0;
    }
    sg_waiter w = { .co = co, .rec = rec, .owner = me, .state = SG_WAITING };
    if (rec->tail) rec->tail->next = &w; else rec->head = &w;
    rec->tail = &w;
    zend_result r = ta_coro_wait(waiter_cancel, &w);
    if (w.state == SG_WAITING) waiter_cancel(co, &w);   /* woken otherwise (the engine unwinding) */
    if (w.state == SG_CLOSED) return r == FAILURE ? -1 : -2;
    return r == FAILURE ? -1 : 0;   /* granted; a hold taken while cancelled goes at the next wait */
}

void ta_stream_guard_waiting(php_stream *stream)
{
    tl_waiting_on = stream;
}

/* Those waiting for the stream give up (they run before it goes). */
static void close_waiters(sg_rec *rec)
{
    rec->closing = true;
    for (sg_waiter *w = rec->head, *next; w; w = next) {
        next = w->next;
        w->state = SG_CLOSED;
        ta_coro_wake(w->co);
    }
    rec->head = rec->tail = NULL;
}

int ta_stream_guard_close(php_stream *stream)
{
    /* nobody holds it nor waits for it: nothing to wait for or to tell */
    if (!find(stream)) return 0;
    int g = ta_stream_guard_enter(stream);
    sg_rec *rec = g == 0 ? find(stream) : NULL;
    if (rec) close_waiters(rec);
    return g;
}

void ta_stream_guard_forget(php_stream *stream)
{
    sg_rec *rec = find(stream);
    if (!rec) return;
    close_waiters(rec);
    for (unsigned i = tl_nholds; i-- > 0;)
        if (tl_holds[i].rec == rec) tl_holds[i] = tl_holds[--tl_nholds];
    drop_rec(rec);
}

void ta_stream_guard_install(void)
{
    ta_sched_set_suspend_hooks(on_suspend, on_gone);
}

void ta_stream_guard_rinit(void)
{
    if (tl_recs) {
        sg_rec *rec;
        ZEND_HASH_FOREACH_PTR(tl_recs, rec) { free(rec); } ZEND_HASH_FOREACH_END();
        zend_hash_clean(tl_recs);
    }
    tl_nholds = 0;
    tl_waiting_on = NULL;
}
