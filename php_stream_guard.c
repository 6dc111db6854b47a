/* Socket streams shared by the requests of a PHP thread: one request's
 * coroutines at a time (see php_stream_guard.h). The thread keeps a record
 * only for streams some coroutine holds or waits for; a coroutine's holds
 * hang on it, so that its suspension costs nothing when it holds nothing
 * and only its own holds otherwise. */
#include "php_stream_guard.h"
#include "scheduler.h"
#include "coro_turn.h"
#include "php_http_api.h"
#include "ta_log.h"

#include <main/php_network.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

typedef struct sg_rec sg_rec;
typedef struct sg_hold sg_hold;

struct sg_rec {
    php_stream *stream;
    const void *owner;          /* the request (its scope) or coroutine using it */
    sg_hold *holds;             /* its holders' holds */
    bool closing;
    bool close_later;           /* fclose()d where it could not wait: closed when let go */
    ta_turn_queue queue;        /* other owners' coroutines, first come first served */
};

/* One coroutine holding one stream, on two lists: its coroutine's (from
 * co->suspend_data, so that a suspension looks at its own holds only) and
 * its stream's. */
struct sg_hold {
    sg_rec *rec;
    ta_coro *co;
    sg_hold *cprev, *cnext;
    sg_hold *rprev, *rnext;
    bool broken;                /* its coroutine's cancellation cut an exchange on it short */
    bool wrote_last;            /* its coroutine's latest I/O on it was a write: an answer may be due */
};

static __thread HashTable *tl_recs;         /* stream -> sg_rec */
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

static sg_hold *hold_of(sg_rec *rec, ta_coro *co)
{
    for (sg_hold *h = co->suspend_data; h; h = h->cnext)
        if (h->rec == rec) return h;
    return NULL;
}

static bool add_hold(sg_rec *rec, ta_coro *co)
{
    sg_hold *h = malloc(sizeof *h);
    if (!h) return false;
    *h = (sg_hold) { .rec = rec, .co = co, .cnext = co->suspend_data, .rnext = rec->holds };
    if (h->cnext) h->cnext->cprev = h;
    if (h->rnext) h->rnext->rprev = h;
    co->suspend_data = h;
    rec->holds = h;
    return true;
}

static void unlink_hold(sg_hold *h)
{
    if (h->cprev) h->cprev->cnext = h->cnext; else h->co->suspend_data = h->cnext;
    if (h->cnext) h->cnext->cprev = h->cprev;
    if (h->rprev) h->rprev->rnext = h->rnext; else h->rec->holds = h->rnext;
    if (h->rnext) h->rnext->rprev = h->rprev;
    free(h);
}

static void granted(ta_turn_waiter *w, void *rec) { add_hold(rec, w->co); }

/* The next waiter gets the stream, and with it every waiter of the same
 * request; with none left the record goes. */
static void grant_next(sg_rec *rec)
{
    ta_turn_waiter *first = ta_turn_first(&rec->queue);
    if (!first) { drop_rec(rec); return; }
    rec->owner = first->owner;
    ta_turn_grant_owner(&rec->queue, rec->owner, granted, rec);
}

/* A cancellation cut a request's exchange on the stream short: the rest of
 * its answer would be the next request's to read (every answer one behind
 * from there). The socket is shut down instead: the others get an error,
 * and the client connects again, as after a server gone. */
static void cut(sg_hold *h)
{
    php_netstream_data_t *sock = (php_netstream_data_t *) h->rec->stream->abstract;
    if (!sock || sock->socket < 0) return;
    shutdown(sock->socket, SHUT_RDWR);
    ta_exchange *ex = ta_http_coro_exchange(h->co);
    ta_log(TA_LOG_WARNING, TA_LOGNO(00871) "%s %s was cancelled in the middle of an exchange on a socket its thread's "
           "requests share (a client kept by the worker): the socket is shut down, so that no other request reads "
           "the rest of that exchange; its next user gets an error and connects again",
           ex ? ex->req.method : "a coroutine of no request", ex ? ex->req.uri : "");
}

static void release(sg_hold *h)
{
    sg_rec *rec = h->rec;
    if (h->broken) cut(h);
    unlink_hold(h);
    if (rec->holds || rec->closing) return;
    if (!rec->close_later) { grant_next(rec); return; }
    /* as fclose() does; freeing it forgets the record (its waiters give up) */
    php_stream *stream = rec->stream;
    php_stream_free(stream, PHP_STREAM_FREE_KEEP_RSRC
                    | (stream->is_persistent ? PHP_STREAM_FREE_CLOSE_PERSISTENT : PHP_STREAM_FREE_CLOSE));
}

/* A coroutine suspends: it gives up what it holds, but for the stream it
 * is waiting on. Holds granted meanwhile (co's own request next in line)
 * go to the head of its list, behind the walk. */
static void on_suspend(ta_coro *co)
{
    php_stream *keep = tl_waiting_on;
    tl_waiting_on = NULL;
    for (sg_hold *h = co->suspend_data, *next; h; h = next) {
        next = h->cnext;
        if (h->rec->stream != keep) release(h);
    }
}

static void on_gone(ta_coro *co)
{
    while (co->suspend_data) release(co->suspend_data);
}

static void note_io(sg_rec *rec, ta_coro *co, bool write)
{
    sg_hold *h = rec ? hold_of(rec, co) : NULL;
    if (h) h->wrote_last = write;
}

int ta_stream_guard_enter(php_stream *stream, bool write)
{
    ta_coro *co = ta_coro_current();
    if (!co) return 0;
    const void *me = owner_of(co);
    sg_rec *rec = find(stream);
    if (!rec) {
        if ((rec = new_rec(stream, me)) && !add_hold(rec, co)) { drop_rec(rec); rec = NULL; }
        note_io(rec, co, write);
        return 0;
    }
    if (rec->closing) return -2;
    if (rec->owner == me) {
        if (!hold_of(rec, co)) add_hold(rec, co);
        note_io(rec, co, write);
        return 0;
    }
    ta_turn_waiter w;
    ta_turn_join(&rec->queue, &w, co, me);
    zend_result r = ta_turn_await(&w);
    if (w.state != TA_TURN_GRANTED) return r == FAILURE ? -1 : -2;    /* cancelled, or the stream closed */
    note_io(rec, co, write);
    return r == FAILURE ? -1 : 0;   /* granted; a hold taken while cancelled goes at the next wait */
}

void ta_stream_guard_interrupted(php_stream *stream)
{
    ta_coro *co = ta_coro_current();
    sg_rec *rec = co ? find(stream) : NULL;
    sg_hold *h = rec ? hold_of(rec, co) : NULL;
    if (h) h->broken = true;
}

/* Whether co's exchange on the stream may be under way: it wrote last (an
 * answer may be due), or bytes wait unread (an answer read in part). An
 * exchange read to its end leaves the stream in step. */
static bool mid_exchange(const sg_hold *h)
{
    php_stream *s = h->rec->stream;
    if (h->wrote_last || s->writepos > s->readpos) return true;
    php_netstream_data_t *sock = (php_netstream_data_t *) s->abstract;
    int n = 0;
    return sock && sock->socket >= 0 && ioctl(sock->socket, FIONREAD, &n) == 0 && n > 0;
}

void ta_stream_guard_cancel_thrown(ta_coro *co)
{
    for (sg_hold *h = co->suspend_data; h; h = h->cnext)
        if (mid_exchange(h)) h->broken = true;
}

void ta_stream_guard_waiting(php_stream *stream)
{
    tl_waiting_on = stream;
}

/* Those waiting for the stream give up (they run before it goes). */
static void close_waiters(sg_rec *rec)
{
    rec->closing = true;
    ta_turn_refuse_all(&rec->queue);
}

int ta_stream_guard_close(php_stream *stream)
{
    /* nobody holds it nor waits for it: nothing to wait for or to tell */
    if (!find(stream)) return 0;
    int g = ta_stream_guard_enter(stream, false);
    sg_rec *rec = g == 0 ? find(stream) : NULL;
    if (rec) close_waiters(rec);
    return g;
}

bool ta_stream_guard_close_later(php_stream *stream)
{
    ta_coro *co = ta_coro_current();
    sg_rec *rec = find(stream);
    if (!rec || rec->closing || !rec->holds || (co && rec->owner == owner_of(co))) return false;
    rec->close_later = true;
    return true;
}

void ta_stream_guard_forget(php_stream *stream)
{
    sg_rec *rec = find(stream);
    if (!rec) return;
    close_waiters(rec);
    while (rec->holds) unlink_hold(rec->holds);
    drop_rec(rec);
}

void ta_stream_guard_install(void)
{
    ta_sched_set_suspend_hooks(on_suspend, on_gone);
}

void ta_stream_guard_run_end(void)
{
    if (tl_recs) {
        sg_rec *rec;
        /* the coroutines left are still allocated (they go with the heap) */
        ZEND_HASH_FOREACH_PTR(tl_recs, rec) {
            ta_turn_abandon(&rec->queue);
            while (rec->holds) unlink_hold(rec->holds);
            free(rec);
        } ZEND_HASH_FOREACH_END();
        zend_hash_clean(tl_recs);
    }
    tl_waiting_on = NULL;
}

void ta_stream_guard_rinit(void)
{
    if (tl_recs) {
        sg_rec *rec;
        /* the coroutines that held them went with the last boot's heap */
        ZEND_HASH_FOREACH_PTR(tl_recs, rec) {
            for (sg_hold *h = rec->holds, *next; h; h = next) { next = h->rnext; free(h); }
            free(rec);
        } ZEND_HASH_FOREACH_END();
        zend_hash_clean(tl_recs);
    }
    tl_waiting_on = NULL;
}
