/* The reactor backend: every TrueAsync event type on a per-thread libuv loop.
 *
 * Event structs are malloc'd (persistent), not emalloc'd: libuv holds
 * pointers into them until a close callback runs or the thread pool hands a
 * request back, and that can be after the request heap is gone (a bailout
 * discards it wholesale). Each struct is the public event, then `ta_ev`
 * (bookkeeping), then the libuv handles, then the caller's extra bytes. The
 * memory goes when the event was disposed AND libuv let go of everything. */
#include "reactor_apr.h"
#include "php_async_api.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <spawn.h>

extern char **environ;
#include <unistd.h>
#include <zend_smart_str.h>

typedef struct ta_reactor ta_reactor;
typedef struct ta_ev ta_ev;

typedef struct {
    /* Close every libuv handle, cancel requests, kill a running command. */
    void (*release_uv)(ta_ev *ev);
    /* Free what the event owns; libuv holds nothing of it any more. */
    void (*cleanup)(ta_ev *ev);
} ta_ev_ops;

struct ta_ev {
    zend_async_event_t *event;  /* start of the allocation */
    const ta_ev_ops *ops;
    ta_reactor *reactor;        /* NULL once shutdown detached it */
    ta_ev *prev, *next;
    unsigned pending;           /* handles not yet closed + requests in flight */
};

typedef struct ta_poll ta_poll;

typedef struct {
    uint32_t armed;             /* epoll events registered, 0: not registered */
    ta_poll *polls;
} ta_fd_slot;

struct ta_fdset {
    int epfd;
    uv_poll_t watch;            /* libuv's view of epfd; referenced while any poll runs */
    ta_fd_slot *slots;
    int nslots;
    unsigned started;
    uint64_t round;
};

struct ta_reactor {
    uv_loop_t loop;
    ta_ev *events;              /* every event not yet freed */
    bool stopping;
    bool running;               /* inside uv_run(): libuv is not re-entrant */
    uint64_t delivered;         /* notifications made, ever */
    uint64_t delivered_mark;    /* ... when this execute() began */
    uv_prepare_t before_poll;   /* unreferenced: see reactor_execute() */
    uv_idle_t no_block;
    struct ta_fdset *fdset;     /* poll events' descriptors, made on first use */
};

static __thread ta_reactor *tl_reactor;
static bool g_use_pidfd = true;

#define TA_ALIGN(n) (((n) + _Alignof(max_align_t) - 1) & ~(size_t) (_Alignof(max_align_t) - 1))

/* ---- shared event plumbing ------------------------------------------------- */

static void *ev_alloc(size_t impl_size, size_t extra_size)
{
    return pecalloc(1, TA_ALIGN(impl_size) + extra_size, 1);
}

static void ev_init(ta_ev *ev, zend_async_event_t *e, size_t impl_size, const ta_ev_ops *ops,
                    zend_async_event_start_t start, zend_async_event_stop_t stop,
                    zend_async_event_dispose_t dispose)
{
    e->ref_count = 1;
    /* Rounded up so any extension data is suitably aligned. */
    e->extra_offset = (uint32_t) TA_ALIGN(impl_size);
    e->add_callback = zend_async_event_add_callback;
    e->del_callback = zend_async_event_del_callback;
    e->start = start;
    e->stop = stop;
    e->dispose = dispose;
    ev->event = e;
    ev->ops = ops;
}

static void ev_link(ta_ev *ev, ta_reactor *r)
{
    ev->reactor = r;
    ev->prev = NULL;
    ev->next = r->events;
    if (r->events) r->events->prev = ev;
    r->events = ev;
}

static void ev_unlink(ta_ev *ev)
{
    if (!ev->reactor) return;
    if (ev->prev) ev->prev->next = ev->next; else ev->reactor->events = ev->next;
    if (ev->next) ev->next->prev = ev->prev;
    ev->prev = ev->next = NULL;
    ev->reactor = NULL;
}

static void ev_free(ta_ev *ev)
{
    ev_unlink(ev);
    ev->ops->cleanup(ev);
    pefree(ev->event, 1);
}

static void ev_maybe_free(ta_ev *ev)
{
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(ev->event) && ev->pending == 0) ev_free(ev);
}

static void ev_handle_closed(uv_handle_t *h)
{
    ta_ev *ev = h->data;
    ev->pending--;
    ev_maybe_free(ev);
}

/* The handle was initialised: it now needs a uv_close before the free. */
static void ev_adopt(ta_ev *ev, uv_handle_t *h)
{
    h->data = ev;
    ev->pending++;
}

static void ev_close(uv_handle_t *h)
{
    if (!uv_is_closing(h)) uv_close(h, ev_handle_closed);
}

/* Undoes every start at once (a one-shot event that fired, an error). */
static void ev_stop_all(zend_async_event_t *e)
{
    if (e->loop_ref_count > 0) {
        e->loop_ref_count = 1;
        e->stop(e);
    }
}

static void ev_dispose(ta_ev *ev)
{
    zend_async_event_t *e = ev->event;
    if (ZEND_ASYNC_EVENT_REF(e) > 1) {
        ZEND_ASYNC_EVENT_DEL_REF(e);
        return;
    }
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(e)) return;
    e->ref_count = 0;
    e->flags |= ZEND_ASYNC_EVENT_F_DISPOSED;
    ev_stop_all(e);
    zend_async_callbacks_free(e);
    if (ev->reactor) ev->ops->release_uv(ev);
    ev_maybe_free(ev);
}

/* Nobody is notified once disposed or while the reactor shuts down. */
static bool ev_can_notify(ta_ev *ev)
{
    return !ZEND_ASYNC_EVENT_IS_DISPOSED(ev->event) && ev->reactor && !ev->reactor->stopping;
}

static void ev_notify(ta_ev *ev, void *result)
{
    if (!ev_can_notify(ev)) return;
    ev->reactor->delivered++;
    zend_async_callbacks_notify(ev->event, result, NULL);
}

static void ev_notify_error(ta_ev *ev, zend_class_entry *ce, int uv_err, const char *format, ...)
    ZEND_ATTRIBUTE_FORMAT(printf, 4, 5);

static void ev_notify_error(ta_ev *ev, zend_class_entry *ce, int uv_err, const char *format, ...)
{
    if (!ev_can_notify(ev)) return;
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

static ta_reactor *current_reactor(const char *what)
{
    ta_reactor *r = tl_reactor;
    if (r == NULL || r->stopping) {
        zend_throw_error(NULL, "Cannot create %s: the reactor is not running on this thread", what);
        return NULL;
    }
    return r;
}

static void nothing_to_clean(ta_ev *ev) { (void) ev; }

/* libuv's text for its own codes; uv_strerror() would malloc (and leak) a
 * string for an errno it does not map, such as ECHILD from waitpid(). */
static const char *err_text(int err)
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

static zend_class_entry *timeout_ce(void)
{
    return ta_ce_timeout_exception ? ta_ce_timeout_exception : ta_ce_async_exception;
}

/* ---- reactor lifecycle ------------------------------------------------------ */

static void no_block_done(uv_idle_t *h) { uv_idle_stop(h); }

static void before_poll(uv_prepare_t *h)
{
    ta_reactor *r = h->data;
    /* Something was delivered this iteration (a timer, say): poll, but do
     * not block, so the caller gets to act on it now. */
    if (r->running && r->delivered != r->delivered_mark) uv_idle_start(&r->no_block, no_block_done);
}

static ta_reactor *reactor_new(void)
{
    ta_reactor *r = pecalloc(1, sizeof *r, 1);
    if (uv_loop_init(&r->loop) != 0) {
        pefree(r, 1);
        return NULL;
    }
    uv_prepare_init(&r->loop, &r->before_poll);
    r->before_poll.data = r;
    uv_prepare_start(&r->before_poll, before_poll);
    uv_unref((uv_handle_t *) &r->before_poll);
    uv_idle_init(&r->loop, &r->no_block);
    uv_unref((uv_handle_t *) &r->no_block);
    return r;
}

static void fdset_closed(uv_handle_t *h);

static bool handle_is_ours(ta_reactor *r, uv_handle_t *h)
{
    for (ta_ev *ev = r->events; ev; ev = ev->next) {
        if (h->data == ev) return true;
    }
    return false;
}

static void close_foreign(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h) && !handle_is_ours(arg, h)) uv_close(h, NULL);
}

/* Frees an event whose owner is gone without releasing its callbacks. */
static void ev_abandon(ta_ev *ev)
{
    zend_async_event_t *e = ev->event;
    if (e->callbacks.data) pefree(e->callbacks.data, 1);
    e->callbacks.data = NULL;
    e->callbacks.length = e->callbacks.capacity = 0;
    ev->ops->cleanup(ev);
    pefree(e, 1);
}

/* Stops every event, lets libuv finish with every handle and request, then
 * closes the loop. Events still referenced stay allocated, closed and
 * detached, until their owner releases them (or, if abandon, are freed). */
static void reactor_destroy(ta_reactor *r, bool abandon)
{
    r->stopping = true;
    for (ta_ev *ev = r->events; ev; ev = ev->next) {
        zend_async_event_t *e = ev->event;
        if (!ZEND_ASYNC_EVENT_IS_DISPOSED(e)) {
            ev_stop_all(e);
            ZEND_ASYNC_EVENT_SET_CLOSED(e);
        }
        ev->ops->release_uv(ev);
    }
    if (r->fdset) {
        uv_close((uv_handle_t *) &r->fdset->watch, fdset_closed);
        r->fdset = NULL;
    }
    uv_walk(&r->loop, close_foreign, r);
    /* Runs close callbacks and waits for thread-pool work already running. */
    uv_run(&r->loop, UV_RUN_DEFAULT);
    while (r->events) {
        ta_ev *ev = r->events;
        ev_unlink(ev);
        if (abandon) ev_abandon(ev);
    }
    if (uv_loop_close(&r->loop) != 0) {
        /* A handle opened by a close callback: one more round. */
        uv_walk(&r->loop, close_foreign, r);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&r->loop) != 0) return;   /* leak rather than free a live loop */
    }
    pefree(r, 1);
}

static bool reactor_startup(void)
{
    if (tl_reactor) return true;
    tl_reactor = reactor_new();
    zend_async_active_event_count = 0;
    return tl_reactor != NULL;
}

static void reactor_teardown(bool abandon)
{
    ta_reactor *r = tl_reactor;
    if (!r) return;
    reactor_destroy(r, abandon);
    tl_reactor = NULL;
    zend_async_active_event_count = 0;
}

static void reactor_shutdown(void) { reactor_teardown(false); }

void ta_reactor_abandon(void) { reactor_teardown(true); }

static bool reactor_loop_alive(void)
{
    ta_reactor *r = tl_reactor;
    return r && (ZEND_ASYNC_ACTIVE_EVENT_COUNT > 0 || uv_loop_alive(&r->loop));
}

/* libuv 1.44's UV_RUN_ONCE runs due timers first and then still blocks in
 * the poll until some other event: a coroutine a timer just woke would
 * wait for that. So a due timer makes this a NOWAIT run, and a delivery
 * during the run (see before_poll) keeps the poll from blocking. */
static bool reactor_execute(bool no_wait)
{
    ta_reactor *r = tl_reactor;
    if (!r) return false;
    if (r->running) return true;    /* called from a callback: refuse to nest */
    r->running = true;
    r->delivered_mark = r->delivered;
    uv_update_time(&r->loop);
    bool due = uv_backend_timeout(&r->loop) == 0;
    uv_run(&r->loop, no_wait || due ? UV_RUN_NOWAIT : UV_RUN_ONCE);
    uv_idle_stop(&r->no_block);
    r->running = false;
    return reactor_loop_alive();
}

uv_loop_t *ta_reactor_loop(void)
{
    return tl_reactor ? &tl_reactor->loop : NULL;
}

/* ---- timer ------------------------------------------------------------------ */

typedef struct {
    zend_async_timer_event_t event;
    ta_ev ev;
    uv_timer_t handle;
    uint64_t ms;
} ta_timer;

static void timer_fired(uv_timer_t *h)
{
    ta_ev *ev = h->data;
    ta_timer *t = (ta_timer *) ev->event;
    if (!t->event.is_periodic) {
        ZEND_ASYNC_EVENT_SET_CLOSED(&t->event.base);
        ev_stop_all(&t->event.base);
    }
    ev_notify(ev, NULL);
}

static void timer_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_timer *t = (ta_timer *) e;
    /* The loop's clock is from the start of the iteration; be exact. */
    uv_update_time(t->handle.loop);
    uint64_t repeat = t->event.is_periodic ? (t->ms ? t->ms : 1) : 0;
    int rc = uv_timer_start(&t->handle, timer_fired, t->ms, repeat);
    if (rc < 0) {
        zend_throw_error(NULL, "Failed to start timer: %s", err_text(rc));
        return;
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void timer_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    uv_timer_stop(&((ta_timer *) e)->handle);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void timer_dispose(zend_async_event_t *e) { ev_dispose(&((ta_timer *) e)->ev); }

static void timer_release_uv(ta_ev *ev) { ev_close((uv_handle_t *) &((ta_timer *) ev->event)->handle); }

static const ta_ev_ops timer_ops = { timer_release_uv, nothing_to_clean };

static zend_async_timer_event_t *new_timer_event(const zend_ulong timeout, const zend_ulong nanoseconds,
                                                 const bool is_periodic, size_t extra_size)
{
    ta_reactor *r = current_reactor("timer event");
    if (!r) return NULL;
    ta_timer *t = ev_alloc(sizeof *t, extra_size);
    ev_init(&t->ev, &t->event.base, sizeof *t, &timer_ops, timer_start, timer_stop, timer_dispose);
    t->event.timeout = timeout;
    t->event.nanoseconds = nanoseconds;
    t->event.is_periodic = is_periodic;
    /* Whole milliseconds, never shorter than asked. */
    uint64_t ns_ms = nanoseconds / 1000000 + (nanoseconds % 1000000 != 0);
    t->ms = (uint64_t) timeout > UINT64_MAX - ns_ms ? UINT64_MAX : (uint64_t) timeout + ns_ms;
    int rc = uv_timer_init(&r->loop, &t->handle);
    if (rc < 0) {
        pefree(t, 1);
        zend_throw_error(NULL, "Failed to create timer: %s", err_text(rc));
        return NULL;
    }
    ev_adopt(&t->ev, (uv_handle_t *) &t->handle);
    ev_link(&t->ev, r);
    return &t->event;
}

/* ---- poll / socket -------------------------------------------------------- */

/* Poll events do not get a uv_poll each: they share one epoll set per
 * thread, which libuv watches as a single descriptor. Several events may
 * then watch one descriptor (a coroutine reading a socket while another
 * writes to it or selects on it; libuv allows one uv_poll per descriptor),
 * a wait costs two epoll_ctl() calls instead of six system calls, and the
 * descriptor's blocking mode is left alone (uv_poll_init sets O_NONBLOCK
 * behind PHP's back). Level-triggered, as uv_poll. */

struct ta_poll {
    zend_async_poll_event_t event;
    ta_ev ev;
    ta_poll *next_on_fd;        /* started events on the same descriptor */
    uint64_t round;             /* the dispatch round that last notified it */
};

static int poll_fd(ta_poll *p) { return p->event.is_socket ? p->event.socket : p->event.file; }

static uint32_t to_epoll(unsigned events)
{
    return (events & ASYNC_READABLE ? EPOLLIN : 0u) | (events & ASYNC_WRITABLE ? EPOLLOUT : 0u)
         | (events & ASYNC_DISCONNECT ? EPOLLRDHUP : 0u) | (events & ASYNC_PRIORITIZED ? EPOLLPRI : 0u);
}

static unsigned from_epoll(uint32_t ev, unsigned wanted)
{
    unsigned got = (ev & EPOLLIN ? ASYNC_READABLE : 0u) | (ev & EPOLLOUT ? ASYNC_WRITABLE : 0u)
                 | (ev & EPOLLRDHUP ? ASYNC_DISCONNECT : 0u) | (ev & EPOLLPRI ? ASYNC_PRIORITIZED : 0u);
    /* An error or hang-up wakes every waiter: the operation reports it. */
    if (ev & (EPOLLERR | EPOLLHUP)) got |= wanted;
    return got & wanted;
}

static void fdset_dispatch(uv_poll_t *h, int status, int events);

static struct ta_fdset *fdset_get(ta_reactor *r)
{
    if (r->fdset) return r->fdset;
    struct ta_fdset *fs = pecalloc(1, sizeof *fs, 1);
    fs->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (fs->epfd < 0 || uv_poll_init(&r->loop, &fs->watch, fs->epfd) != 0) {
        if (fs->epfd >= 0) close(fs->epfd);
        pefree(fs, 1);
        return NULL;
    }
    fs->watch.data = r;
    uv_poll_start(&fs->watch, UV_READABLE, fdset_dispatch);
    uv_unref((uv_handle_t *) &fs->watch);
    r->fdset = fs;
    return fs;
}

static void fdset_closed(uv_handle_t *h)
{
    struct ta_fdset *fs = (struct ta_fdset *) ((char *) h - offsetof(struct ta_fdset, watch));
    close(fs->epfd);
    pefree(fs->slots, 1);
    pefree(fs, 1);
}

/* Registers what the descriptor's started events want; 0 on success or
 * the errno (EBADF, EPERM for regular files...). */
static int fdset_arm(struct ta_fdset *fs, int fd)
{
    ta_fd_slot *slot = &fs->slots[fd];
    uint32_t want = 0;
    for (ta_poll *q = slot->polls; q; q = q->next_on_fd) want |= to_epoll(q->event.events);
    if (want == slot->armed && want != 0) return 0;
    struct epoll_event ee = { .events = want, .data.fd = fd };
    int rc = 0;
    if (!slot->polls) {
        /* errors ignored: a descriptor closed under us left the set by itself */
        if (slot->armed) epoll_ctl(fs->epfd, EPOLL_CTL_DEL, fd, &ee);
        slot->armed = 0;
        return 0;
    }
    if (slot->armed) {
        rc = epoll_ctl(fs->epfd, EPOLL_CTL_MOD, fd, &ee);
        if (rc < 0 && errno == ENOENT) rc = epoll_ctl(fs->epfd, EPOLL_CTL_ADD, fd, &ee);
    } else {
        rc = epoll_ctl(fs->epfd, EPOLL_CTL_ADD, fd, &ee);
        if (rc < 0 && errno == EEXIST) rc = epoll_ctl(fs->epfd, EPOLL_CTL_MOD, fd, &ee);
    }
    if (rc < 0) return errno;
    slot->armed = want ? want : 1;
    return 0;
}

static void fdset_unlist(struct ta_fdset *fs, ta_poll *p)
{
    int fd = poll_fd(p);
    if (fd < 0 || fd >= fs->nslots) return;
    for (ta_poll **pp = &fs->slots[fd].polls; *pp; pp = &(*pp)->next_on_fd) {
        if (*pp == p) { *pp = p->next_on_fd; p->next_on_fd = NULL; return; }
    }
}

/* A descriptor closed while watched, whose file lives on in a copy (a
 * child's, say), stays in the set under its old number and can't be
 * removed by that number: level-triggered, it would wake the loop forever.
 * A fresh set under the same descriptor number drops it. */
static void fdset_rebuild(struct ta_fdset *fs)
{
    int nfd = epoll_create1(EPOLL_CLOEXEC);
    if (nfd < 0) return;
    for (int fd = 0; fd < fs->nslots; fd++) {
        ta_fd_slot *slot = &fs->slots[fd];
        if (!slot->armed) continue;
        struct epoll_event ee = { .events = slot->armed, .data.fd = fd };
        if (epoll_ctl(nfd, EPOLL_CTL_ADD, fd, &ee) < 0) slot->armed = 0;
    }
    if (dup3(nfd, fs->epfd, O_CLOEXEC) < 0) { close(nfd); return; }
    close(nfd);
    /* libuv watched the set's old file: make it register the new one */
    uv_poll_stop(&fs->watch);
    uv_poll_start(&fs->watch, UV_READABLE, fdset_dispatch);
}

static void fdset_dispatch(uv_poll_t *h, int status, int events)
{
    (void) status; (void) events;
    ta_reactor *r = h->data;
    struct ta_fdset *fs = r->fdset;
    struct epoll_event evs[64];
    int n = epoll_wait(fs->epfd, evs, 64, 0);
    uint64_t round = ++fs->round;
    bool stale = false;
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd < 0 || fd >= fs->nslots || !fs->slots[fd].polls) {
            struct epoll_event ee = {0};
            if (epoll_ctl(fs->epfd, EPOLL_CTL_DEL, fd, &ee) < 0) stale = true;
            if (fd >= 0 && fd < fs->nslots) fs->slots[fd].armed = 0;
            continue;
        }
        /* A callback may stop or free any event of the slot: look again
         * from the head after each notification. */
        for (;;) {
            ta_poll *p = fs->slots[fd].polls;
            while (p && p->round == round) p = p->next_on_fd;
            if (!p) break;
            p->round = round;
            if ((evs[i].events & EPOLLERR) && !(evs[i].events & EPOLLPRI)) {
                /* as libuv reports it: the watch ends, with an error */
                ev_stop_all(&p->event.base);
                ev_notify_error(&p->ev, ta_ce_input_output_exception, UV_EBADF, "I/O error on descriptor %d: %s",
                                fd, err_text(UV_EBADF));
                continue;
            }
            unsigned got = from_epoll(evs[i].events, p->event.events);
            if (!got) continue;
            p->event.triggered_events = (async_poll_event) got;
            ev_notify(&p->ev, &p->event.triggered_events);
        }
    }
    if (stale && r->fdset == fs) fdset_rebuild(fs);
}

static void poll_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_poll *p = (ta_poll *) e;
    ta_reactor *r = p->ev.reactor;
    int fd = poll_fd(p);
    struct ta_fdset *fs = r ? fdset_get(r) : NULL;
    if (!fs) {
        zend_throw_error(NULL, "Failed to poll descriptor %d: %s", fd, err_text(UV_ENOMEM));
        return;
    }
    if (fd >= fs->nslots) {
        int n = fs->nslots ? fs->nslots : 64;
        while (n <= fd) n *= 2;
        fs->slots = perealloc(fs->slots, (size_t) n * sizeof *fs->slots, 1);
        memset(fs->slots + fs->nslots, 0, (size_t) (n - fs->nslots) * sizeof *fs->slots);
        fs->nslots = n;
    }
    p->next_on_fd = fs->slots[fd].polls;
    fs->slots[fd].polls = p;
    int err = fdset_arm(fs, fd);
    if (err) {
        fdset_unlist(fs, p);
        fdset_arm(fs, fd);
        zend_throw_error(NULL, "Failed to poll descriptor %d: %s", fd, err_text(-err));
        return;
    }
    if (fs->started++ == 0) uv_ref((uv_handle_t *) &fs->watch);
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void poll_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    ta_poll *p = (ta_poll *) e;
    struct ta_fdset *fs = p->ev.reactor ? p->ev.reactor->fdset : NULL;
    if (fs) {
        fdset_unlist(fs, p);
        fdset_arm(fs, poll_fd(p));
        if (--fs->started == 0) uv_unref((uv_handle_t *) &fs->watch);
    }
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void poll_dispose(zend_async_event_t *e) { ev_dispose(&((ta_poll *) e)->ev); }

/* Stopping (done before this) was all there was to let go of. */
static void poll_release_uv(ta_ev *ev) { (void) ev; }

static const ta_ev_ops poll_ops = { poll_release_uv, nothing_to_clean };

static zend_async_poll_event_t *poll_create(int fd, bool is_socket, async_poll_event events, size_t extra_size)
{
    ta_reactor *r = current_reactor(is_socket ? "socket event" : "poll event");
    if (!r) return NULL;
    if (fd < 0) {
        zend_throw_error(NULL, "Failed to create %s event for descriptor %d: %s",
                         is_socket ? "socket" : "poll", fd, err_text(UV_EBADF));
        return NULL;
    }
    ta_poll *p = ev_alloc(sizeof *p, extra_size);
    ev_init(&p->ev, &p->event.base, sizeof *p, &poll_ops, poll_start, poll_stop, poll_dispose);
    p->event.is_socket = is_socket;
    if (is_socket) p->event.socket = fd; else p->event.file = fd;
    p->event.events = events;
    ev_link(&p->ev, r);
    return &p->event;
}

static zend_async_poll_event_t *new_socket_event(zend_socket_t socket, async_poll_event events, size_t extra_size)
{
    return poll_create(socket, true, events, extra_size);
}

static zend_async_poll_event_t *new_poll_event(zend_file_descriptor_t fh, zend_socket_t socket,
                                               async_poll_event events, size_t extra_size)
{
    if (fh == ZEND_FD_INVALID) return poll_create(socket, true, events, extra_size);
    return poll_create(fh, false, events, extra_size);
}

/* ---- signal ----------------------------------------------------------------- */

typedef struct {
    zend_async_signal_event_t event;
    ta_ev ev;
    uv_signal_t handle;
} ta_signal;

static void signal_delivered(uv_signal_t *h, int signum)
{
    (void) signum;
    ta_ev *ev = h->data;
    ev_notify(ev, &((ta_signal *) ev->event)->event.signal);
}

static void signal_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_signal *s = (ta_signal *) e;
    int rc = uv_signal_start(&s->handle, signal_delivered, s->event.signal);
    if (rc < 0) {
        zend_throw_error(NULL, "Failed to watch signal %d: %s", s->event.signal, err_text(rc));
        return;
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void signal_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    uv_signal_stop(&((ta_signal *) e)->handle);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void signal_dispose(zend_async_event_t *e) { ev_dispose(&((ta_signal *) e)->ev); }

static void signal_release_uv(ta_ev *ev) { ev_close((uv_handle_t *) &((ta_signal *) ev->event)->handle); }

static const ta_ev_ops signal_ops = { signal_release_uv, nothing_to_clean };

static zend_async_signal_event_t *new_signal_event(int signum, size_t extra_size)
{
    ta_reactor *r = current_reactor("signal event");
    if (!r) return NULL;
    if (signum <= 0 || signum >= NSIG) {
        zend_throw_error(NULL, "Failed to create signal event for %d: %s", signum, err_text(UV_EINVAL));
        return NULL;
    }
    ta_signal *s = ev_alloc(sizeof *s, extra_size);
    ev_init(&s->ev, &s->event.base, sizeof *s, &signal_ops, signal_start, signal_stop, signal_dispose);
    s->event.signal = signum;
    int rc = uv_signal_init(&r->loop, &s->handle);
    if (rc < 0) {
        pefree(s, 1);
        zend_throw_error(NULL, "Failed to create signal event for %d: %s", signum, err_text(rc));
        return NULL;
    }
    ev_adopt(&s->ev, (uv_handle_t *) &s->handle);
    ev_link(&s->ev, r);
    return &s->event;
}

/* ---- process exit ------------------------------------------------------------
 * A pidfd (Linux 5.3+) becomes readable when the process exits; elsewhere,
 * or where pidfd_open is refused, every SIGCHLD triggers a waitpid(pid,
 * WNOHANG) for our pid only. A 0 ms timer covers an exit that happened
 * before the watcher was in place. */

typedef struct {
    zend_async_process_event_t event;
    ta_ev ev;
    uv_poll_t pidfd_poll;
    uv_signal_t sigchld;
    uv_timer_t kick;
    int pidfd;
    bool has_poll, has_sigchld;
    bool reaped;
    int status;
} ta_process;

void ta_reactor_process_use_pidfd(bool on)
{
    __atomic_store_n(&g_use_pidfd, on, __ATOMIC_RELAXED);
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    if (__atomic_load_n(&g_use_pidfd, __ATOMIC_RELAXED)) {
        long fd = syscall(SYS_pidfd_open, pid, 0);   /* close-on-exec by default */
        if (fd >= 0) return (int) fd;
    }
#else
    (void) pid;
#endif
    return -1;
}

static pid_t wait_nohang(pid_t pid, int *status)
{
    pid_t w;
    do {
        w = waitpid(pid, status, WNOHANG);
    } while (w < 0 && errno == EINTR);
    return w;
}

static void process_check(ta_process *x, int poll_status)
{
    zend_async_event_t *e = &x->event.base;
    if (ZEND_ASYNC_EVENT_IS_CLOSED(e)) return;
    if (!x->reaped) {
        int st;
        pid_t w = wait_nohang(x->event.process, &st);
        if (w == 0 && poll_status == 0) return;     /* not yet: a sibling's SIGCHLD */
        if (w <= 0) {
            int err = w < 0 ? uv_translate_sys_error(errno) : poll_status;
            ZEND_ASYNC_EVENT_SET_CLOSED(e);
            ev_stop_all(e);
            ev_notify_error(&x->ev, ta_ce_async_exception, err, "Failed to wait for process %d: %s",
                            (int) x->event.process, err_text(err));
            return;
        }
        x->reaped = true;
        x->status = st;
    }
    if (WIFSIGNALED(x->status)) {
        x->event.term_signal = WTERMSIG(x->status);
        x->event.exit_code = -(zend_long) x->event.term_signal;
    } else {
        x->event.term_signal = 0;
        x->event.exit_code = WEXITSTATUS(x->status);
    }
    ZEND_ASYNC_EVENT_SET_CLOSED(e);
    ev_stop_all(e);
    ev_notify(&x->ev, &x->event.exit_code);
}

static void process_pidfd_ready(uv_poll_t *h, int status, int events)
{
    (void) events;
    process_check((ta_process *) ((ta_ev *) h->data)->event, status);
}

static void process_sigchld(uv_signal_t *h, int signum)
{
    (void) signum;
    process_check((ta_process *) ((ta_ev *) h->data)->event, 0);
}

static void process_kick(uv_timer_t *h)
{
    process_check((ta_process *) ((ta_ev *) h->data)->event, 0);
}

static void process_stop_watchers(ta_process *x)
{
    if (x->has_poll) uv_poll_stop(&x->pidfd_poll);
    if (x->has_sigchld) uv_signal_stop(&x->sigchld);
    uv_timer_stop(&x->kick);
}

static void process_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_process *x = (ta_process *) e;
    int rc = 0;
    if (x->has_poll) rc = uv_poll_start(&x->pidfd_poll, UV_READABLE, process_pidfd_ready);
    else if (x->has_sigchld) rc = uv_signal_start(&x->sigchld, process_sigchld, SIGCHLD);
    if (rc == 0 && (x->reaped || x->has_sigchld)) rc = uv_timer_start(&x->kick, process_kick, 0, 0);
    if (rc < 0) {
        process_stop_watchers(x);
        zend_throw_error(NULL, "Failed to watch process %d: %s", (int) x->event.process, err_text(rc));
        return;
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void process_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    process_stop_watchers((ta_process *) e);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void process_dispose(zend_async_event_t *e) { ev_dispose(&((ta_process *) e)->ev); }

static void process_release_uv(ta_ev *ev)
{
    ta_process *x = (ta_process *) ev->event;
    if (x->has_poll) ev_close((uv_handle_t *) &x->pidfd_poll);
    if (x->has_sigchld) ev_close((uv_handle_t *) &x->sigchld);
    ev_close((uv_handle_t *) &x->kick);
}

static void process_cleanup(ta_ev *ev)
{
    ta_process *x = (ta_process *) ev->event;
    if (x->pidfd >= 0) close(x->pidfd);
}

static const ta_ev_ops process_ops = { process_release_uv, process_cleanup };

static zend_async_process_event_t *process_create(ta_reactor *r, zend_process_t pid, size_t extra_size)
{
    int st = 0;
    /* Only a child of ours can be waited for; say so now, not later. */
    pid_t w = pid > 0 ? wait_nohang(pid, &st) : (errno = EINVAL, -1);
    if (w < 0) {
        zend_throw_error(NULL, "Failed to watch process %d: %s", (int) pid,
                         err_text(uv_translate_sys_error(errno)));
        return NULL;
    }
    ta_process *x = ev_alloc(sizeof *x, extra_size);
    ev_init(&x->ev, &x->event.base, sizeof *x, &process_ops, process_start, process_stop, process_dispose);
    x->event.process = pid;
    x->pidfd = -1;
    if (w == pid) {
        x->reaped = true;   /* already gone: the kick timer reports it */
        x->status = st;
    }
    uv_timer_init(&r->loop, &x->kick);
    ev_adopt(&x->ev, (uv_handle_t *) &x->kick);
    if (!x->reaped) x->pidfd = open_pidfd(pid);
    if (x->pidfd >= 0) {
        if (uv_poll_init(&r->loop, &x->pidfd_poll, x->pidfd) == 0) {
            x->has_poll = true;
            ev_adopt(&x->ev, (uv_handle_t *) &x->pidfd_poll);
        } else {
            close(x->pidfd);
            x->pidfd = -1;
        }
    }
    if (!x->reaped && !x->has_poll) {
        int rc = uv_signal_init(&r->loop, &x->sigchld);
        if (rc < 0) {
            /* The kick timer is a live handle: go the disposing way. */
            ev_link(&x->ev, r);
            ev_dispose(&x->ev);
            zend_throw_error(NULL, "Failed to watch process %d: %s", (int) pid, err_text(rc));
            return NULL;
        }
        x->has_sigchld = true;
        ev_adopt(&x->ev, (uv_handle_t *) &x->sigchld);
    }
    ev_link(&x->ev, r);
    return &x->event;
}

static zend_async_process_event_t *new_process_event(zend_process_t pid, size_t extra_size)
{
    ta_reactor *r = current_reactor("process event");
    return r ? process_create(r, pid, extra_size) : NULL;
}

bool ta_reactor_pidfd_works(void)
{
    static int works = -1;
    int w = __atomic_load_n(&works, __ATOMIC_RELAXED);
    if (w < 0) {
        int fd = open_pidfd(getpid());
        w = fd >= 0;
        if (fd >= 0) close(fd);
        __atomic_store_n(&works, w, __ATOMIC_RELAXED);
    }
    return w && __atomic_load_n(&g_use_pidfd, __ATOMIC_RELAXED);
}

/* ---- thread (work on the libuv thread pool) --------------------------------- */

typedef struct {
    zend_async_thread_event_t event;
    ta_ev ev;
    uv_work_t req;
    bool in_flight;
} ta_thread;

/* On a pool thread: only the entry's own data may be touched here. */
static void thread_work(uv_work_t *req)
{
    ta_thread *t = (ta_thread *) ((ta_ev *) req->data)->event;
    t->event.result = t->event.entry(t->event.arg);
}

static void thread_done(uv_work_t *req, int status);

static int thread_submit(ta_thread *t)
{
    t->req.data = &t->ev;
    int rc = uv_queue_work(&t->ev.reactor->loop, &t->req, thread_work, thread_done);
    if (rc == 0) {
        t->in_flight = true;
        t->ev.pending++;
    }
    return rc;
}

static void thread_done(uv_work_t *req, int status)
{
    ta_ev *ev = req->data;
    ta_thread *t = (ta_thread *) ev->event;
    zend_async_event_t *e = &t->event.base;
    t->in_flight = false;
    ev->pending--;
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(e)) {
        ev_maybe_free(ev);
        return;
    }
    if (status == UV_ECANCELED) {
        /* Cancelled by stop(); started again since, so run it after all. */
        if (e->loop_ref_count > 0 && ev_can_notify(ev)) {
            int rc = thread_submit(t);
            if (rc < 0) {
                ev_stop_all(e);
                ev_notify_error(ev, ta_ce_async_exception, rc, "Failed to queue work: %s", err_text(rc));
            }
        }
        return;
    }
    bool active = e->loop_ref_count > 0;
    ZEND_ASYNC_EVENT_SET_CLOSED(e);
    ev_stop_all(e);
    if (active) ev_notify(ev, t->event.result);
}

static void thread_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_thread *t = (ta_thread *) e;
    if (!t->in_flight) {
        int rc = thread_submit(t);
        if (rc < 0) {
            zend_throw_error(NULL, "Failed to queue work: %s", err_text(rc));
            return;
        }
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void thread_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    ta_thread *t = (ta_thread *) e;
    /* Fails once the entry runs: it finishes, unreported. */
    if (t->in_flight) uv_cancel((uv_req_t *) &t->req);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void thread_dispose(zend_async_event_t *e) { ev_dispose(&((ta_thread *) e)->ev); }

static void thread_release_uv(ta_ev *ev)
{
    ta_thread *t = (ta_thread *) ev->event;
    if (t->in_flight) uv_cancel((uv_req_t *) &t->req);
}

static const ta_ev_ops thread_ops = { thread_release_uv, nothing_to_clean };

static zend_async_thread_event_t *new_thread_event(zend_async_thread_entry_t entry, void *arg, size_t extra_size)
{
    ta_reactor *r = current_reactor("thread event");
    if (!r) return NULL;
    if (entry == NULL) {
        zend_throw_error(NULL, "Failed to create thread event: %s", err_text(UV_EINVAL));
        return NULL;
    }
    ta_thread *t = ev_alloc(sizeof *t, extra_size);
    ev_init(&t->ev, &t->event.base, sizeof *t, &thread_ops, thread_start, thread_stop, thread_dispose);
    t->event.entry = entry;
    t->event.arg = arg;
    ev_link(&t->ev, r);
    return &t->event;
}

/* ---- filesystem watch --------------------------------------------------------- */

typedef struct {
    zend_async_filesystem_event_t event;
    ta_ev ev;
    uv_fs_event_t handle;
} ta_fs;

static void fs_changed(uv_fs_event_t *h, const char *filename, int events, int status)
{
    ta_ev *ev = h->data;
    ta_fs *f = (ta_fs *) ev->event;
    if (status < 0) {
        ev_stop_all(&f->event.base);
        ev_notify_error(ev, ta_ce_input_output_exception, status, "Watching %s failed: %s",
                        ZSTR_VAL(f->event.path), err_text(status));
        return;
    }
    if (f->event.triggered_filename) zend_string_release(f->event.triggered_filename);
    f->event.triggered_filename = filename ? zend_string_init(filename, strlen(filename), 1) : NULL;
    f->event.triggered_events = (unsigned int) events;
    ev_notify(ev, &f->event);
}

static void fs_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_fs *f = (ta_fs *) e;
    int rc = uv_fs_event_start(&f->handle, fs_changed, ZSTR_VAL(f->event.path),
                               f->event.flags & UV_FS_EVENT_RECURSIVE);
    if (rc < 0) {
        zend_throw_error(NULL, "Failed to watch %s: %s", ZSTR_VAL(f->event.path), err_text(rc));
        return;
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void fs_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    uv_fs_event_stop(&((ta_fs *) e)->handle);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void fs_dispose(zend_async_event_t *e) { ev_dispose(&((ta_fs *) e)->ev); }

static void fs_release_uv(ta_ev *ev) { ev_close((uv_handle_t *) &((ta_fs *) ev->event)->handle); }

static void fs_cleanup(ta_ev *ev)
{
    ta_fs *f = (ta_fs *) ev->event;
    zend_string_release(f->event.path);
    if (f->event.triggered_filename) zend_string_release(f->event.triggered_filename);
}

static const ta_ev_ops fs_ops = { fs_release_uv, fs_cleanup };

static zend_async_filesystem_event_t *new_filesystem_event(zend_string *path, const unsigned int flags,
                                                           size_t extra_size)
{
    ta_reactor *r = current_reactor("filesystem event");
    if (!r) return NULL;
    if (path == NULL || ZSTR_LEN(path) == 0) {
        zend_throw_error(NULL, "Failed to create filesystem event: %s", err_text(UV_EINVAL));
        return NULL;
    }
    ta_fs *f = ev_alloc(sizeof *f, extra_size);
    ev_init(&f->ev, &f->event.base, sizeof *f, &fs_ops, fs_start, fs_stop, fs_dispose);
    int rc = uv_fs_event_init(&r->loop, &f->handle);
    if (rc < 0) {
        pefree(f, 1);
        zend_throw_error(NULL, "Failed to create filesystem event: %s", err_text(rc));
        return NULL;
    }
    /* Persistent copy: the caller's string may belong to the request. */
    f->event.path = zend_string_init(ZSTR_VAL(path), ZSTR_LEN(path), 1);
    f->event.flags = flags;
    ev_adopt(&f->ev, (uv_handle_t *) &f->handle);
    ev_link(&f->ev, r);
    return &f->event;
}

/* ---- DNS ------------------------------------------------------------------------ */

typedef struct {
    zend_async_dns_addrinfo_t event;
    ta_ev ev;
    uv_getaddrinfo_t req;
    struct addrinfo hints;
    char *node, *service;
    bool in_flight;
} ta_addrinfo;

static void addrinfo_done(uv_getaddrinfo_t *req, int status, struct addrinfo *res);

static int addrinfo_submit(ta_addrinfo *a)
{
    a->req.data = &a->ev;
    int rc = uv_getaddrinfo(&a->ev.reactor->loop, &a->req, addrinfo_done, a->node, a->service,
                            a->event.hints);
    if (rc == 0) {
        a->in_flight = true;
        a->ev.pending++;
    }
    return rc;
}

static const char *addrinfo_name(ta_addrinfo *a) { return a->node ? a->node : a->service; }

static void addrinfo_done(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ta_ev *ev = req->data;
    ta_addrinfo *a = (ta_addrinfo *) ev->event;
    zend_async_event_t *e = &a->event.base;
    a->in_flight = false;
    ev->pending--;
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(e)) {
        if (res) uv_freeaddrinfo(res);
        ev_maybe_free(ev);
        return;
    }
    if (status == UV_ECANCELED) {
        if (e->loop_ref_count > 0 && ev_can_notify(ev)) {
            int rc = addrinfo_submit(a);
            if (rc < 0) {
                ev_stop_all(e);
                ev_notify_error(ev, ta_ce_dns_exception, rc, "DNS lookup of %s failed: %s",
                                addrinfo_name(a), err_text(rc));
            }
        }
        return;
    }
    bool active = e->loop_ref_count > 0;
    ZEND_ASYNC_EVENT_SET_CLOSED(e);
    ev_stop_all(e);
    if (status < 0) {
        if (res) uv_freeaddrinfo(res);
        if (active) ev_notify_error(ev, ta_ce_dns_exception, status, "DNS lookup of %s failed: %s",
                                    addrinfo_name(a), err_text(status));
        return;
    }
    a->event.result = res;
    if (active) ev_notify(ev, res);
}

static void addrinfo_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_addrinfo *a = (ta_addrinfo *) e;
    if (!a->in_flight) {
        int rc = addrinfo_submit(a);
        if (rc < 0) {
            zend_throw_error(NULL, "Failed to start DNS lookup of %s: %s", addrinfo_name(a), err_text(rc));
            return;
        }
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void addrinfo_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    ta_addrinfo *a = (ta_addrinfo *) e;
    if (a->in_flight) uv_cancel((uv_req_t *) &a->req);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void addrinfo_dispose(zend_async_event_t *e) { ev_dispose(&((ta_addrinfo *) e)->ev); }

static void addrinfo_release_uv(ta_ev *ev)
{
    ta_addrinfo *a = (ta_addrinfo *) ev->event;
    if (a->in_flight) uv_cancel((uv_req_t *) &a->req);
}

static void addrinfo_cleanup(ta_ev *ev)
{
    ta_addrinfo *a = (ta_addrinfo *) ev->event;
    if (a->event.result) uv_freeaddrinfo(a->event.result);
    if (a->node) pefree(a->node, 1);
    if (a->service) pefree(a->service, 1);
}

static const ta_ev_ops addrinfo_ops = { addrinfo_release_uv, addrinfo_cleanup };

static zend_async_dns_addrinfo_t *r_getaddrinfo(const char *node, const char *service,
                                                const struct addrinfo *hints, size_t extra_size)
{
    ta_reactor *r = current_reactor("DNS lookup");
    if (!r) return NULL;
    if (node == NULL && service == NULL) {
        zend_throw_error(NULL, "Failed to create DNS lookup: %s", err_text(UV_EINVAL));
        return NULL;
    }
    ta_addrinfo *a = ev_alloc(sizeof *a, extra_size);
    ev_init(&a->ev, &a->event.base, sizeof *a, &addrinfo_ops, addrinfo_start, addrinfo_stop, addrinfo_dispose);
    a->node = node ? pestrdup(node, 1) : NULL;
    a->service = service ? pestrdup(service, 1) : NULL;
    if (hints) {
        /* Only the four request fields mean anything in hints. */
        a->hints.ai_flags = hints->ai_flags;
        a->hints.ai_family = hints->ai_family;
        a->hints.ai_socktype = hints->ai_socktype;
        a->hints.ai_protocol = hints->ai_protocol;
        a->event.hints = &a->hints;
    }
    a->event.node = a->node;
    a->event.service = a->service;
    ev_link(&a->ev, r);
    return &a->event;
}

static void r_freeaddrinfo(struct addrinfo *ai)
{
    if (ai != NULL) uv_freeaddrinfo(ai);
}

typedef struct {
    zend_async_dns_nameinfo_t event;
    ta_ev ev;
    uv_getnameinfo_t req;
    struct sockaddr_storage addr;
    int flags;
    bool in_flight;
} ta_nameinfo;

static void nameinfo_done(uv_getnameinfo_t *req, int status, const char *hostname, const char *service);

static int nameinfo_submit(ta_nameinfo *n)
{
    n->req.data = &n->ev;
    int rc = uv_getnameinfo(&n->ev.reactor->loop, &n->req, nameinfo_done,
                            (const struct sockaddr *) &n->addr, n->flags);
    if (rc == 0) {
        n->in_flight = true;
        n->ev.pending++;
    }
    return rc;
}

static void nameinfo_done(uv_getnameinfo_t *req, int status, const char *hostname, const char *service)
{
    ta_ev *ev = req->data;
    ta_nameinfo *n = (ta_nameinfo *) ev->event;
    zend_async_event_t *e = &n->event.base;
    n->in_flight = false;
    ev->pending--;
    if (ZEND_ASYNC_EVENT_IS_DISPOSED(e)) {
        ev_maybe_free(ev);
        return;
    }
    if (status == UV_ECANCELED) {
        if (e->loop_ref_count > 0 && ev_can_notify(ev)) {
            int rc = nameinfo_submit(n);
            if (rc < 0) {
                ev_stop_all(e);
                ev_notify_error(ev, ta_ce_dns_exception, rc, "Reverse DNS lookup failed: %s", err_text(rc));
            }
        }
        return;
    }
    bool active = e->loop_ref_count > 0;
    ZEND_ASYNC_EVENT_SET_CLOSED(e);
    ev_stop_all(e);
    if (status < 0) {
        if (active) ev_notify_error(ev, ta_ce_dns_exception, status, "Reverse DNS lookup failed: %s",
                                    err_text(status));
        return;
    }
    /* Both point into req, which lives as long as the event. */
    n->event.hostname = hostname;
    n->event.service = service;
    if (active) ev_notify(ev, &n->event);
}

static void nameinfo_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_nameinfo *n = (ta_nameinfo *) e;
    if (!n->in_flight) {
        int rc = nameinfo_submit(n);
        if (rc < 0) {
            zend_throw_error(NULL, "Failed to start reverse DNS lookup: %s", err_text(rc));
            return;
        }
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

static void nameinfo_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    ta_nameinfo *n = (ta_nameinfo *) e;
    if (n->in_flight) uv_cancel((uv_req_t *) &n->req);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void nameinfo_dispose(zend_async_event_t *e) { ev_dispose(&((ta_nameinfo *) e)->ev); }

static void nameinfo_release_uv(ta_ev *ev)
{
    ta_nameinfo *n = (ta_nameinfo *) ev->event;
    if (n->in_flight) uv_cancel((uv_req_t *) &n->req);
}

static const ta_ev_ops nameinfo_ops = { nameinfo_release_uv, nothing_to_clean };

static zend_async_dns_nameinfo_t *r_getnameinfo(const struct sockaddr *addr, int flags, size_t extra_size)
{
    ta_reactor *r = current_reactor("reverse DNS lookup");
    if (!r) return NULL;
    size_t len = 0;
    if (addr && addr->sa_family == AF_INET) len = sizeof(struct sockaddr_in);
    else if (addr && addr->sa_family == AF_INET6) len = sizeof(struct sockaddr_in6);
    if (len == 0) {
        zend_throw_error(NULL, "Failed to create reverse DNS lookup: %s", err_text(UV_EAFNOSUPPORT));
        return NULL;
    }
    ta_nameinfo *n = ev_alloc(sizeof *n, extra_size);
    ev_init(&n->ev, &n->event.base, sizeof *n, &nameinfo_ops, nameinfo_start, nameinfo_stop, nameinfo_dispose);
    memcpy(&n->addr, addr, len);
    n->flags = flags;
    ev_link(&n->ev, r);
    return &n->event;
}

/* ---- exec ------------------------------------------------------------------------ */

/* The command runs in a process group of its own, spawned here rather than
 * by uv_spawn: its exit is watched by a process event (a pidfd, where
 * libuv would need SIGCHLD), and a timeout or a cancel kills the whole
 * group, not only the shell. */
typedef struct {
    zend_async_exec_event_t event;
    ta_ev ev;
    pid_t pid;
    zend_async_process_event_t *watch;
    zend_async_event_callback_t watch_cb;   /* embedded: nothing to free */
    uv_pipe_t out, err;
    uv_timer_t timer;
    bool spawned, exited, out_open, err_open;
    smart_str out_buf, err_buf;     /* persistent */
    char rbuf[16384];
} ta_exec;

static void exec_close_pipe(ta_exec *x, uv_pipe_t *p)
{
    if (p == &x->out) x->out_open = false; else x->err_open = false;
    ev_close((uv_handle_t *) p);
}

static size_t rtrim_len(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char) s[n - 1])) n--;
    return n;
}

/* Stdout as PHP's exec() sees it: lines without trailing whitespace. */
static void exec_lines(ta_exec *x, void (*each)(void *ctx, const char *line, size_t len), void *ctx)
{
    if (!x->out_buf.s) return;
    const char *p = ZSTR_VAL(x->out_buf.s), *end = p + ZSTR_LEN(x->out_buf.s);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl : end;
        each(ctx, p, rtrim_len(p, (size_t) (le - p)));
        p = nl ? nl + 1 : end;
    }
}

typedef struct { const char *s; size_t len; } ta_line;

static void keep_last_line(void *ctx, const char *line, size_t len)
{
    ta_line *l = ctx;
    l->s = line;
    l->len = len;
}

static void append_line(void *ctx, const char *line, size_t len)
{
    add_next_index_stringl(ctx, line, len);
}

static void set_zval_string(zval *z, smart_str *s)
{
    zval_ptr_dtor(z);
    if (s->s) ZVAL_STRINGL(z, ZSTR_VAL(s->s), ZSTR_LEN(s->s)); else ZVAL_EMPTY_STRING(z);
}

static void exec_fill(ta_exec *x)
{
    zval *z;
    if ((z = x->event.return_value) != NULL) {
        ZVAL_DEREF(z);
        zval_ptr_dtor(z);
        ZVAL_LONG(z, x->event.exit_code);
    }
    if ((z = x->event.std_error) != NULL) {
        ZVAL_DEREF(z);
        set_zval_string(z, &x->err_buf);
    }
    if ((z = x->event.return_buffer) == NULL) return;
    ZVAL_DEREF(z);
    switch (x->event.exec_mode) {
    case ZEND_ASYNC_EXEC_MODE_EXEC:
    case ZEND_ASYNC_EXEC_MODE_SYSTEM: {
        ta_line last = { "", 0 };
        exec_lines(x, keep_last_line, &last);
        zval_ptr_dtor(z);
        ZVAL_STRINGL(z, last.s, last.len);
        break;
    }
    case ZEND_ASYNC_EXEC_MODE_EXEC_ARRAY:
        if (Z_TYPE_P(z) != IS_ARRAY) {
            zval_ptr_dtor(z);
            array_init(z);
        } else {
            SEPARATE_ARRAY(z);
        }
        exec_lines(x, append_line, z);
        break;
    case ZEND_ASYNC_EXEC_MODE_SHELL_EXEC:
        if (x->out_buf.s && ZSTR_LEN(x->out_buf.s) > 0) {
            set_zval_string(z, &x->out_buf);
        } else {
            zval_ptr_dtor(z);
            ZVAL_NULL(z);
        }
        break;
    case ZEND_ASYNC_EXEC_MODE_PASSTHRU:
        break;
    }
}

/* Done once the command exited and both pipes reached EOF. */
static void exec_maybe_done(ta_exec *x)
{
    zend_async_event_t *e = &x->event.base;
    if (!x->exited || x->out_open || x->err_open || ZEND_ASYNC_EVENT_IS_CLOSED(e)) return;
    uv_timer_stop(&x->timer);
    bool active = e->loop_ref_count > 0;
    ZEND_ASYNC_EVENT_SET_CLOSED(e);
    ev_stop_all(e);
    if (!active || !ev_can_notify(&x->ev)) return;
    exec_fill(x);
    if (x->event.timed_out) {
        ev_notify_error(&x->ev, timeout_ce(), 0, "Command timed out after %lu ms: %s",
                        (unsigned long) x->event.timeout, x->event.cmd);
        return;
    }
    ev_notify(&x->ev, &x->event.exit_code);
}

static void exec_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void) suggested;
    ta_exec *x = (ta_exec *) ((ta_ev *) h->data)->event;
    *buf = uv_buf_init(x->rbuf, sizeof x->rbuf);
}

static void exec_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    ta_ev *ev = stream->data;
    ta_exec *x = (ta_exec *) ev->event;
    bool is_out = stream == (uv_stream_t *) &x->out;
    if (nread > 0) {
        zend_async_exec_mode mode = x->event.exec_mode;
        bool echo = is_out && (mode == ZEND_ASYNC_EXEC_MODE_SYSTEM || mode == ZEND_ASYNC_EXEC_MODE_PASSTHRU);
        if (echo && ev_can_notify(ev) && x->event.base.loop_ref_count > 0) {
            php_output_write(buf->base, (size_t) nread);
        }
        if (!is_out || mode != ZEND_ASYNC_EXEC_MODE_PASSTHRU) {
            smart_str_appendl_ex(is_out ? &x->out_buf : &x->err_buf, buf->base, (size_t) nread, 1);
        }
        return;
    }
    if (nread == 0) return;     /* EAGAIN */
    exec_close_pipe(x, (uv_pipe_t *) stream);   /* EOF or a read error */
    exec_maybe_done(x);
}

static void exec_watch_release(ta_exec *x)
{
    if (!x->watch) return;
    zend_async_event_t *w = &x->watch->base;
    x->watch = NULL;
    w->del_callback(w, &x->watch_cb);
    ZEND_ASYNC_EVENT_RELEASE(w);
}

/* The process event reaped the shell. */
static void exec_exited(zend_async_event_t *w, zend_async_event_callback_t *cb, void *result, zend_object *exception)
{
    (void) w; (void) result;
    ta_exec *x = (ta_exec *) ((char *) cb - offsetof(ta_exec, watch_cb));
    x->exited = true;
    if (exception) {
        x->event.term_signal = 0;
        x->event.exit_code = -1;
    } else {
        x->event.term_signal = x->watch->term_signal;
        x->event.exit_code = x->watch->exit_code;
    }
    exec_watch_release(x);
    if (!ZEND_ASYNC_EVENT_IS_DISPOSED(&x->event.base) && ev_can_notify(&x->ev)) exec_maybe_done(x);
}

static void exec_watch_cb_dispose(zend_async_event_callback_t *cb, zend_async_event_t *event)
{
    (void) cb; (void) event;
}

static void exec_kill(ta_exec *x)
{
    if (x->spawned && !x->exited) kill(-x->pid, SIGKILL);
}

/* Nothing else will wait for it: kill the group, reap the shell now
 * (SIGKILL ends it at once). */
static void exec_kill_reap(ta_exec *x)
{
    if (!x->spawned || x->exited) return;
    exec_kill(x);
    while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR) {}
    x->exited = true;
}

static void exec_timed_out(uv_timer_t *h)
{
    ta_exec *x = (ta_exec *) ((ta_ev *) h->data)->event;
    x->event.timed_out = true;
    exec_kill(x);
    /* A grandchild may hold the pipes open: stop waiting for their EOF. */
    if (x->out_open) exec_close_pipe(x, &x->out);
    if (x->err_open) exec_close_pipe(x, &x->err);
    exec_maybe_done(x);
}

/* "K=V\0K=V\0\0" to a NULL-terminated array pointing into the block. */
static char **exec_envp(char *env)
{
    size_t n = 0;
    for (char *p = env; *p; p += strlen(p) + 1) n++;
    char **v = pecalloc(n + 1, sizeof *v, 1);
    size_t i = 0;
    for (char *p = env; *p; p += strlen(p) + 1) v[i++] = p;
    return v;
}

/* Spawns /bin/sh -c cmd with stdout and stderr on pipes, stdin on
 * /dev/null, default signal handling and mask, in a new process group.
 * 0 or an errno (a bad cwd is the child's error, reported here too). */
static int exec_spawn(ta_exec *x, int *out_r, int *err_r)
{
    /* Checked here too: where the spawn really forks (valgrind) the
     * child's chdir() failure would only show as exit code 127. */
    struct stat sb;
    if (x->event.cwd && stat(x->event.cwd, &sb) != 0) return errno;
    if (x->event.cwd && !S_ISDIR(sb.st_mode)) return ENOTDIR;
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return errno;
    if (pipe2(err, O_CLOEXEC) != 0) { int e = errno; close(out[0]); close(out[1]); return e; }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (x->event.cwd) posix_spawn_file_actions_addchdir_np(&fa, x->event.cwd);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    char *args[] = { "/bin/sh", "-c", x->event.cmd, NULL };
    char **envp = x->event.env ? exec_envp(x->event.env) : environ;
    int rc = posix_spawn(&x->pid, args[0], &fa, &at, args, envp);
    if (x->event.env) pefree(envp, 1);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(out[1]);
    close(err[1]);
    if (rc != 0) { close(out[0]); close(err[0]); return rc; }
    *out_r = out[0];
    *err_r = err[0];
    return 0;
}

static void exec_start(zend_async_event_t *e)
{
    EVENT_START_PROLOGUE(e);
    ta_exec *x = (ta_exec *) e;
    if (!x->spawned) {
        int out_fd, err_fd;
        int rc = exec_spawn(x, &out_fd, &err_fd);
        if (rc != 0) {
            ZEND_ASYNC_EVENT_SET_CLOSED(e);
            zend_throw_error(NULL, "Failed to run command %s: %s", x->event.cmd, err_text(-rc));
            return;
        }
        x->spawned = true;
        x->watch = process_create(x->ev.reactor, x->pid, 0);
        if (!x->watch) {
            /* cannot happen for our own child; do not leave it behind */
            exec_kill_reap(x);
            close(out_fd);
            close(err_fd);
            ZEND_ASYNC_EVENT_SET_CLOSED(e);
            return;
        }
        x->watch_cb.callback = exec_exited;
        x->watch_cb.dispose = exec_watch_cb_dispose;
        x->watch->base.add_callback(&x->watch->base, &x->watch_cb);
        x->watch->base.start(&x->watch->base);
        uv_pipe_open(&x->out, out_fd);
        uv_pipe_open(&x->err, err_fd);
        x->out_open = x->err_open = true;
        uv_read_start((uv_stream_t *) &x->out, exec_alloc, exec_read);
        uv_read_start((uv_stream_t *) &x->err, exec_alloc, exec_read);
        if (x->event.timeout > 0) uv_timer_start(&x->timer, exec_timed_out, x->event.timeout, 0);
    }
    e->loop_ref_count++;
    ZEND_ASYNC_INCREASE_EVENT_COUNT;
}

/* The command runs on, unwatched; its completion is recorded but not told. */
static void exec_stop(zend_async_event_t *e)
{
    EVENT_STOP_PROLOGUE(e);
    e->loop_ref_count = 0;
    ZEND_ASYNC_DECREASE_EVENT_COUNT;
}

static void exec_dispose(zend_async_event_t *e) { ev_dispose(&((ta_exec *) e)->ev); }

static void exec_release_uv(ta_ev *ev)
{
    ta_exec *x = (ta_exec *) ev->event;
    ev_close((uv_handle_t *) &x->timer);
    exec_close_pipe(x, &x->out);
    exec_close_pipe(x, &x->err);
    exec_kill_reap(x);
    exec_watch_release(x);
}

static void exec_cleanup(ta_ev *ev)
{
    ta_exec *x = (ta_exec *) ev->event;
    smart_str_free_ex(&x->out_buf, 1);
    smart_str_free_ex(&x->err_buf, 1);
    pefree(x->event.cmd, 1);
    if (x->event.cwd) pefree(x->event.cwd, 1);
    if (x->event.env) pefree(x->event.env, 1);
}

static const ta_ev_ops exec_ops = { exec_release_uv, exec_cleanup };

static ta_exec *exec_create(ta_reactor *r, zend_async_exec_mode exec_mode, const char *cmd,
                            zval *return_buffer, zval *return_value, zval *std_error,
                            const char *cwd, const char *env, size_t extra_size)
{
    if (cmd == NULL || exec_mode < ZEND_ASYNC_EXEC_MODE_EXEC || exec_mode > ZEND_ASYNC_EXEC_MODE_SHELL_EXEC) {
        zend_throw_error(NULL, "Failed to create exec event: %s", err_text(UV_EINVAL));
        return NULL;
    }
    ta_exec *x = ev_alloc(sizeof *x, extra_size);
    ev_init(&x->ev, &x->event.base, sizeof *x, &exec_ops, exec_start, exec_stop, exec_dispose);
    x->event.exec_mode = exec_mode;
    x->event.cmd = pestrdup(cmd, 1);
    x->event.return_buffer = return_buffer;
    x->event.return_value = return_value;
    x->event.std_error = std_error;
    x->event.cwd = cwd ? pestrdup(cwd, 1) : NULL;
    if (env) {
        const char *p = env;
        while (*p) p += strlen(p) + 1;
        size_t len = (size_t) (p - env) + 1;
        x->event.env = pemalloc(len, 1);
        memcpy(x->event.env, env, len);
    }
    uv_pipe_init(&r->loop, &x->out, 0);
    ev_adopt(&x->ev, (uv_handle_t *) &x->out);
    uv_pipe_init(&r->loop, &x->err, 0);
    ev_adopt(&x->ev, (uv_handle_t *) &x->err);
    uv_timer_init(&r->loop, &x->timer);
    ev_adopt(&x->ev, (uv_handle_t *) &x->timer);
    ev_link(&x->ev, r);
    return x;
}

static zend_async_exec_event_t *new_exec_event(zend_async_exec_mode exec_mode, const char *cmd,
                                               zval *return_buffer, zval *return_value, zval *std_error,
                                               const char *cwd, const char *env, size_t extra_size)
{
    ta_reactor *r = current_reactor("exec event");
    if (!r) return NULL;
    ta_exec *x = exec_create(r, exec_mode, cmd, return_buffer, return_value, std_error, cwd, env, extra_size);
    return x ? &x->event : NULL;
}

typedef struct {
    zend_async_event_callback_t base;
    bool done;
    zend_object *exception;
} exec_waiter;

static void exec_waiter_fired(zend_async_event_t *event, zend_async_event_callback_t *cb,
                              void *result, zend_object *exception)
{
    (void) event;
    (void) result;
    exec_waiter *w = (exec_waiter *) cb;
    w->done = true;
    if (exception) {
        GC_ADDREF(exception);
        w->exception = exception;
    }
}

/* The blocking form runs on a private loop of its own: nothing else of the
 * thread runs meanwhile (no re-entrant callbacks, no nested uv_run), so it
 * is safe anywhere, even inside a reactor callback or before startup. */
static int r_exec(zend_async_exec_mode exec_mode, const char *cmd, zval *return_buffer,
                  zval *return_value, zval *std_error, const char *cwd, const char *env,
                  const zend_ulong timeout)
{
    ta_reactor *r = reactor_new();
    if (!r) {
        zend_throw_error(NULL, "Failed to run command %s: %s", cmd ? cmd : "", err_text(UV_ENOMEM));
        return -1;
    }
    ta_exec *x = exec_create(r, exec_mode, cmd, return_buffer, return_value, std_error, cwd, env, 0);
    if (!x) {
        reactor_destroy(r, false);
        return -1;
    }
    exec_waiter w = { { 0, exec_waiter_fired, NULL }, false, NULL };
    x->event.timeout = timeout;
    zend_async_callbacks_push(&x->event.base, &w.base);
    x->event.base.start(&x->event.base);
    while (!w.done && !ZEND_ASYNC_EVENT_IS_CLOSED(&x->event.base)) {
        if (uv_run(&r->loop, UV_RUN_ONCE) == 0 && !w.done) break;
    }
    int code = w.done ? (int) x->event.exit_code : -1;
    ZEND_ASYNC_EVENT_RELEASE(&x->event.base);
    reactor_destroy(r, false);
    if (w.exception) {
        zval ex;
        ZVAL_OBJ(&ex, w.exception);
        zend_throw_exception_object(&ex);
        return -1;
    }
    return code;
}

/* ---- registration --------------------------------------------------------------- */

bool ta_reactor_register(void)
{
    return zend_async_reactor_register(
        "mod_trueasync", false,
        reactor_startup, reactor_shutdown, reactor_execute, reactor_loop_alive,
        new_socket_event, new_poll_event, new_timer_event, new_signal_event,
        new_process_event, new_thread_event, new_filesystem_event,
        r_getnameinfo, r_getaddrinfo, r_freeaddrinfo,
        new_exec_event, r_exec);
}
