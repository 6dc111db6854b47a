/* Private to the reactor (reactor_*.c): the per-thread reactor, the
 * bookkeeping every event carries, and the plumbing the event families
 * share. Nothing outside the reactor includes this; reactor_apr.h is the
 * public face.
 *
 * Event structs are malloc'd (persistent), not emalloc'd: libuv holds
 * pointers into them until a close callback runs or the thread pool hands a
 * request back, and that can be after the request heap is gone (a bailout
 * discards it wholesale). Each struct is the public event, then `ta_ev`
 * (bookkeeping), then the libuv handles, then the caller's extra bytes. The
 * memory goes when the event was disposed AND libuv let go of everything.
 *
 * Threading: a reactor and its events belong to the thread whose loop made
 * them; every function here runs on that thread. */
#ifndef TA_REACTOR_EVENT_H
#define TA_REACTOR_EVENT_H

#include "ta_async_api.h"
#include <uv.h>

typedef struct ta_reactor ta_reactor;
typedef struct ta_ev ta_ev;
struct ta_fdset;

typedef struct {
    /* First start: start the libuv side; false after throwing. */
    bool (*arm)(ta_ev *ev);
    /* Last stop: stop the libuv side. */
    void (*disarm)(ta_ev *ev);
    /* Close every libuv handle, cancel requests, kill a running command. */
    void (*release_uv)(ta_ev *ev);
    /* Free what the event owns; libuv holds nothing of it any more.
     * NULL: it owns nothing. */
    void (*cleanup)(ta_ev *ev);
    /* The contract's methods, from TA_EV_METHODS. */
    zend_async_event_start_t start;
    zend_async_event_stop_t stop;
    zend_async_event_dispose_t dispose;
} ta_ev_ops;

struct ta_ev {
    zend_async_event_t *event;  /* start of the allocation */
    const ta_ev_ops *ops;
    ta_reactor *reactor;        /* NULL once shutdown detached it */
    ta_ev *prev, *next;
    unsigned pending;           /* handles not yet closed + requests in flight */
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

/* ---- reactors (reactor_apr.c) ---------------------------------------------- */

/* A loop of its own, not the thread's (exec's blocking form uses one). */
ta_reactor *ta_reactor_new(void);
/* Stops every event, lets libuv finish with it, closes the loop. Events
 * still referenced stay allocated, closed and detached until released
 * (or, if abandon, are freed without their callbacks' dispose). */
void ta_reactor_destroy(ta_reactor *r, bool abandon);
/* The thread's running reactor, or NULL with an Error thrown that says
 * `what` cannot be created. */
ta_reactor *ta_reactor_current(const char *what);

/* ---- events (reactor_event.c) ---------------------------------------------- */

/* Zeroed memory for an impl struct of impl_size plus extra bytes. */
void *ta_ev_alloc(size_t impl_size, size_t extra_size);
void ta_ev_init(ta_ev *ev, zend_async_event_t *e, size_t impl_size, const ta_ev_ops *ops);
void ta_ev_link(ta_ev *ev, ta_reactor *r);
void ta_ev_unlink(ta_ev *ev);
/* The handle was initialised: it now needs a uv_close before the free. */
void ta_ev_adopt(ta_ev *ev, uv_handle_t *h);
void ta_ev_close(uv_handle_t *h);
/* Frees the memory once disposed and nothing of libuv's is pending. */
void ta_ev_maybe_free(ta_ev *ev);
/* Frees an event whose owner is gone, without releasing its callbacks. */
void ta_ev_abandon(ta_ev *ev);

/* The contract's start/stop/dispose, counted here, with ops doing the rest. */
void ta_ev_start(ta_ev *ev);
void ta_ev_stop(ta_ev *ev);
void ta_ev_dispose(ta_ev *ev);
/* Undoes every start at once (a one-shot event that fired, an error). */
void ta_ev_stop_all(zend_async_event_t *e);

/* The three methods of an impl struct `type` whose ta_ev is `member`, as
 * prefix_start, prefix_stop and prefix_dispose, for its ta_ev_ops. */
#define TA_EV_METHODS(prefix, type, member)                                             \
    static void prefix##_start(zend_async_event_t *e) { ta_ev_start(&((type *) e)->member); }   \
    static void prefix##_stop(zend_async_event_t *e) { ta_ev_stop(&((type *) e)->member); }     \
    static void prefix##_dispose(zend_async_event_t *e) { ta_ev_dispose(&((type *) e)->member); }

/* Nobody is notified once disposed or while the reactor shuts down. */
bool ta_ev_can_notify(ta_ev *ev);
void ta_ev_notify(ta_ev *ev, void *result);
/* Notifies a new exception of class ce, code uv_err, message formatted. */
void ta_ev_notify_error(ta_ev *ev, zend_class_entry *ce, int uv_err, const char *format, ...)
    ZEND_ATTRIBUTE_FORMAT(printf, 4, 5);

/* True if rc is no error; otherwise throws Error with the formatted text,
 * ": " and the text for rc (for the ops' arm). */
bool ta_ev_started(int rc, const char *format, ...) ZEND_ATTRIBUTE_FORMAT(printf, 2, 3);

/* libuv's text for its codes, strerror()'s for any other negative errno. */
const char *ta_ev_strerror(int err);

/* ---- requests on the libuv thread pool (reactor_event.c) ------------------- */

/* Thread work, getaddrinfo and getnameinfo: a uv_req that one start
 * queues, a stop cancels while it waits, and that fires once. */
typedef struct {
    ta_ev ev;
    bool in_flight;
    uv_req_t *req;              /* the family's own request, embedded */
} ta_req_ev;

typedef struct {
    ta_ev_ops base;
    /* Queues the request (req->data is the ta_ev); 0 or a libuv error. */
    int (*submit)(ta_ev *ev);
    /* Reports err: thrown if the first start could not queue the request,
     * otherwise notified as the family's exception. */
    void (*error)(ta_ev *ev, int err, bool thrown);
} ta_req_ops;

/* The ops of a request family whose functions are prefix_submit,
 * prefix_error and TA_EV_METHODS(prefix, ...). */
#define TA_REQ_OPS(prefix, cleanup)                                                      \
    { { ta_req_arm, ta_req_cancel, ta_req_cancel, (cleanup),                             \
        prefix##_start, prefix##_stop, prefix##_dispose }, prefix##_submit, prefix##_error }

void ta_req_init(ta_req_ev *q, zend_async_event_t *e, size_t impl_size, const ta_req_ops *ops, uv_req_t *req);
bool ta_req_arm(ta_ev *ev);
void ta_req_cancel(ta_ev *ev);
/* First thing in a request's completion callback. False: nothing more to
 * do (the event may be gone; free what libuv handed over). True: the
 * request completed for good and the event is closed; store the result
 * and, if *notify, notify it. Errors were notified already. */
bool ta_req_finished(ta_ev *ev, int status, bool *notify);

/* ---- event families, for registration and for each other ------------------- */

zend_async_timer_event_t *ta_timer_new(const zend_ulong timeout, const zend_ulong nanoseconds,
                                       const bool is_periodic, size_t extra_size);
zend_async_poll_event_t *ta_socket_new(zend_socket_t socket, async_poll_event events, size_t extra_size);
zend_async_poll_event_t *ta_poll_new(zend_file_descriptor_t fh, zend_socket_t socket,
                                     async_poll_event events, size_t extra_size);
/* Closes the reactor's shared epoll set, if it has one. */
void ta_fdset_close(ta_reactor *r);
zend_async_signal_event_t *ta_signal_new(int signum, size_t extra_size);
zend_async_process_event_t *ta_process_new(zend_process_t pid, size_t extra_size);
/* A process event on r, which need not be the thread's reactor. */
zend_async_process_event_t *ta_process_create(ta_reactor *r, zend_process_t pid, size_t extra_size);
zend_async_thread_event_t *ta_thread_new(zend_async_thread_entry_t entry, void *arg, size_t extra_size);
zend_async_filesystem_event_t *ta_fs_new(zend_string *path, const unsigned int flags, size_t extra_size);
zend_async_dns_addrinfo_t *ta_dns_getaddrinfo(const char *node, const char *service,
                                              const struct addrinfo *hints, size_t extra_size);
zend_async_dns_nameinfo_t *ta_dns_getnameinfo(const struct sockaddr *addr, int flags, size_t extra_size);
void ta_dns_freeaddrinfo(struct addrinfo *ai);
zend_async_exec_event_t *ta_exec_new(zend_async_exec_mode exec_mode, const char *cmd,
                                     zval *return_buffer, zval *return_value, zval *std_error,
                                     const char *cwd, const char *env, size_t extra_size);
int ta_exec_run(zend_async_exec_mode exec_mode, const char *cmd, zval *return_buffer,
                zval *return_value, zval *std_error, const char *cwd, const char *env,
                const zend_ulong timeout);

#endif
