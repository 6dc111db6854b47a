/* Poll and socket events, on one epoll set per thread (the fd set). Made by
 * the contract's new_socket_event and new_poll_event slots (PHP streams,
 * stream_select, proc_open pipes, curl, the worker's wake-up);
 * reactor_apr.c closes the set.
 *
 * Poll events do not get a uv_poll each: they share one epoll set per
 * thread, which libuv watches as a single descriptor. Several events may
 * then watch one descriptor (a coroutine reading a socket while another
 * writes to it or selects on it; libuv allows one uv_poll per descriptor),
 * a wait costs two epoll_ctl() calls instead of six system calls, and the
 * descriptor's blocking mode is left alone (uv_poll_init sets O_NONBLOCK
 * behind PHP's back). Level-triggered, as uv_poll. */
#include "reactor_event.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

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

struct ta_poll {
    zend_async_poll_event_t event;
    ta_ev ev;
    ta_poll *next_on_fd;        /* started events on the same descriptor */
    uint64_t round;             /* the dispatch round that last notified it */
};

TA_EV_METHODS(poll, ta_poll, ev)

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

/* ---- the fd set ---------------------------------------------------------------- */

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

void ta_fdset_close(ta_reactor *r)
{
    if (!r->fdset) return;
    uv_close((uv_handle_t *) &r->fdset->watch, fdset_closed);
    r->fdset = NULL;
}

static void fdset_grow(struct ta_fdset *fs, int fd)
{
    if (fd < fs->nslots) return;
    int n = fs->nslots ? fs->nslots : 64;
    while (n <= fd) n *= 2;
    fs->slots = perealloc(fs->slots, (size_t) n * sizeof *fs->slots, 1);
    memset(fs->slots + fs->nslots, 0, (size_t) (n - fs->nslots) * sizeof *fs->slots);
    fs->nslots = n;
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

/* Tells every started event of fd what it waits for, once this round. */
static void fdset_notify_fd(struct ta_fdset *fs, int fd, uint32_t events, uint64_t round)
{
    /* A callback may stop or free any event of the slot: look again from
     * the head after each notification. */
    for (;;) {
        ta_poll *p = fs->slots[fd].polls;
        while (p && p->round == round) p = p->next_on_fd;
        if (!p) break;
        p->round = round;
        if ((events & EPOLLERR) && !(events & EPOLLPRI)) {
            /* as libuv reports it: the watch ends, with an error */
            ta_ev_stop_all(&p->event.base);
            ta_ev_notify_error(&p->ev, ta_ce_input_output_exception, UV_EBADF, "I/O error on descriptor %d: %s",
                               fd, ta_ev_strerror(UV_EBADF));
            continue;
        }
        unsigned got = from_epoll(events, p->event.events);
        if (!got) continue;
        p->event.triggered_events = (async_poll_event) got;
        ta_ev_notify(&p->ev, &p->event.triggered_events);
    }
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
        fdset_notify_fd(fs, fd, evs[i].events, round);
    }
    if (stale && r->fdset == fs) fdset_rebuild(fs);
}

/* ---- poll events ------------------------------------------------------------------ */

static bool poll_arm(ta_ev *ev)
{
    ta_poll *p = (ta_poll *) ev->event;
    ta_reactor *r = p->ev.reactor;
    int fd = poll_fd(p);
    struct ta_fdset *fs = r ? fdset_get(r) : NULL;
    if (!fs) {
        zend_throw_error(NULL, "Failed to poll descriptor %d: %s", fd, ta_ev_strerror(UV_ENOMEM));
        return false;
    }
    fdset_grow(fs, fd);
    p->next_on_fd = fs->slots[fd].polls;
    fs->slots[fd].polls = p;
    int err = fdset_arm(fs, fd);
    if (err) {
        fdset_unlist(fs, p);
        fdset_arm(fs, fd);
        zend_throw_error(NULL, "Failed to poll descriptor %d: %s", fd, ta_ev_strerror(-err));
        return false;
    }
    if (fs->started++ == 0) uv_ref((uv_handle_t *) &fs->watch);
    return true;
}

static void poll_disarm(ta_ev *ev)
{
    ta_poll *p = (ta_poll *) ev->event;
    struct ta_fdset *fs = p->ev.reactor ? p->ev.reactor->fdset : NULL;
    if (!fs) return;
    fdset_unlist(fs, p);
    fdset_arm(fs, poll_fd(p));
    if (--fs->started == 0) uv_unref((uv_handle_t *) &fs->watch);
}

/* Stopping (done before this) was all there was to let go of. */
static void poll_release_uv(ta_ev *ev) { (void) ev; }

static const ta_ev_ops poll_ops = {
    poll_arm, poll_disarm, poll_release_uv, NULL,
    poll_start, poll_stop, poll_dispose
};

static zend_async_poll_event_t *poll_create(int fd, bool is_socket, async_poll_event events, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current(is_socket ? "socket event" : "poll event");
    if (!r) return NULL;
    if (fd < 0) {
        zend_throw_error(NULL, "Failed to create %s event for descriptor %d: %s",
                         is_socket ? "socket" : "poll", fd, ta_ev_strerror(UV_EBADF));
        return NULL;
    }
    ta_poll *p = ta_ev_alloc(sizeof *p, extra_size);
    ta_ev_init(&p->ev, &p->event.base, sizeof *p, &poll_ops);
    p->event.is_socket = is_socket;
    if (is_socket) p->event.socket = fd; else p->event.file = fd;
    p->event.events = events;
    ta_ev_link(&p->ev, r);
    return &p->event;
}

zend_async_poll_event_t *ta_socket_new(zend_socket_t socket, async_poll_event events, size_t extra_size)
{
    return poll_create(socket, true, events, extra_size);
}

zend_async_poll_event_t *ta_poll_new(zend_file_descriptor_t fh, zend_socket_t socket,
                                     async_poll_event events, size_t extra_size)
{
    if (fh == ZEND_FD_INVALID) return poll_create(socket, true, events, extra_size);
    return poll_create(fh, false, events, extra_size);
}
