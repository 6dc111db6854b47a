/* The TrueAsync reactor contract, written from the backend implementation
 * guide (shared/reference/trueasync-backend-implementation-guide.rst) with
 * the guide's names, so the reactor could register with an engine that has
 * the API. Stock PHP has none, so the registry lives here too.
 *
 * Where the guide leaves a struct or signature open, the choice made here is
 * documented next to it. Threading: the registry is written once at module
 * start-up (before PHP threads exist) and only read afterwards; every event
 * belongs to the thread whose loop created it and must be started, stopped,
 * released and notified on that thread only. */
#ifndef TA_ASYNC_API_H
#define TA_ASYNC_API_H

#include "php_common.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

/* ---- descriptors ---------------------------------------------------------- */

typedef int zend_socket_t;
typedef int zend_file_descriptor_t;
typedef pid_t zend_process_t;

#define ZEND_SOCKET_INVALID (-1)
#define ZEND_FD_INVALID (-1)

/* Same values as libuv's uv_poll_event, on purpose. */
typedef enum {
    ASYNC_READABLE = 1,
    ASYNC_WRITABLE = 2,
    ASYNC_DISCONNECT = 4,
    ASYNC_PRIORITIZED = 8
} async_poll_event;

/* Filesystem watch: what happened (triggered_events) and how to watch
 * (flags; RECURSIVE is passed to libuv, which ignores it on Linux:
 * inotify watches one directory level). */
#define ZEND_ASYNC_FS_EVENT_RENAME 1u
#define ZEND_ASYNC_FS_EVENT_CHANGE 2u
#define ZEND_ASYNC_FS_EVENT_RECURSIVE 4u

/* How an exec event hands stdout back; the numbers are php_exec()'s types so
 * exec(), system(), passthru() and shell_exec() map one to one. */
typedef enum {
    ZEND_ASYNC_EXEC_MODE_EXEC = 0,       /* return_buffer = last line */
    ZEND_ASYNC_EXEC_MODE_SYSTEM = 1,     /* output echoed; return_buffer = last line */
    ZEND_ASYNC_EXEC_MODE_EXEC_ARRAY = 2, /* lines appended to the array return_buffer */
    ZEND_ASYNC_EXEC_MODE_PASSTHRU = 3,   /* raw output echoed, nothing kept */
    ZEND_ASYNC_EXEC_MODE_SHELL_EXEC = 4  /* return_buffer = whole output, NULL if none */
} zend_async_exec_mode;

/* ---- events and callbacks ------------------------------------------------- */

typedef struct _zend_async_event_s zend_async_event_t;
typedef struct _zend_async_event_callback_s zend_async_event_callback_t;

/* `result` and `exception` are borrowed for the duration of the call; keep
 * the exception with GC_ADDREF. Exactly one of them is meaningful: on error
 * `exception` is set; on success `result` is the event type's result (see
 * each struct below; NULL where nothing is produced). */
typedef void (*zend_async_event_callback_fn)(zend_async_event_t *event,
        zend_async_event_callback_t *callback, void *result, zend_object *exception);
/* Called when the last reference to the callback goes; frees it. `event` is
 * the event that dropped it, or NULL when released elsewhere. */
typedef void (*zend_async_event_callback_dispose_fn)(zend_async_event_callback_t *callback,
        zend_async_event_t *event);

typedef void (*zend_async_event_add_callback_t)(zend_async_event_t *event, zend_async_event_callback_t *callback);
typedef void (*zend_async_event_del_callback_t)(zend_async_event_t *event, zend_async_event_callback_t *callback);
typedef void (*zend_async_event_start_t)(zend_async_event_t *event);
typedef void (*zend_async_event_stop_t)(zend_async_event_t *event);
typedef void (*zend_async_event_dispose_t)(zend_async_event_t *event);

/* Callbacks are embedded first in a larger struct of their owner's. The
 * event's vector holds one reference to each callback it contains. */
struct _zend_async_event_callback_s {
    uint32_t ref_count;
    zend_async_event_callback_fn callback;
    zend_async_event_callback_dispose_fn dispose;   /* NULL: nothing to free */
};

/* A notification in progress, on the notifier's stack; removals adjust it so
 * callbacks may remove themselves or others while being notified. */
typedef struct _zend_async_callbacks_iterator_s {
    uint32_t next;
    uint32_t end;
    struct _zend_async_callbacks_iterator_s *outer;
} zend_async_callbacks_iterator_t;

/* Growable vector; order of registration is the order of notification. */
typedef struct {
    uint32_t length;
    uint32_t capacity;
    zend_async_event_callback_t **data;
    zend_async_callbacks_iterator_t *iterators;
} zend_async_callbacks_vector_t;

#define ZEND_ASYNC_EVENT_F_CLOSED   (1u << 0)   /* fired for good or shut down: start is a no-op */
#define ZEND_ASYNC_EVENT_F_DISPOSED (1u << 1)   /* dispose ran; memory waits for libuv only */

/* The base every event struct starts with. ref_count starts at 1 (the
 * creator's). loop_ref_count counts start() calls not yet undone by stop();
 * while it is > 0 the event is active and keeps the loop alive.
 * extra_offset is where the extra_size bytes asked for at creation begin. */
struct _zend_async_event_s {
    uint32_t ref_count;
    uint32_t flags;
    uint32_t loop_ref_count;
    uint32_t extra_offset;
    zend_async_callbacks_vector_t callbacks;
    zend_async_event_add_callback_t add_callback;
    zend_async_event_del_callback_t del_callback;
    zend_async_event_start_t start;
    zend_async_event_stop_t stop;
    zend_async_event_dispose_t dispose;
};

#define ZEND_ASYNC_EVENT_REF(ev)        ((ev)->ref_count)
#define ZEND_ASYNC_EVENT_ADD_REF(ev)    (++(ev)->ref_count)
#define ZEND_ASYNC_EVENT_DEL_REF(ev)    (--(ev)->ref_count)
/* Drops one reference; the last one disposes. */
#define ZEND_ASYNC_EVENT_RELEASE(ev) do {                                   \
        zend_async_event_t *ev_ = (zend_async_event_t *) (ev);              \
        if (ev_->ref_count > 1) ev_->ref_count--; else ev_->dispose(ev_);   \
    } while (0)

#define ZEND_ASYNC_EVENT_IS_CLOSED(ev)  (((ev)->flags & ZEND_ASYNC_EVENT_F_CLOSED) != 0)
#define ZEND_ASYNC_EVENT_SET_CLOSED(ev) ((ev)->flags |= ZEND_ASYNC_EVENT_F_CLOSED)
#define ZEND_ASYNC_EVENT_IS_DISPOSED(ev) (((ev)->flags & ZEND_ASYNC_EVENT_F_DISPOSED) != 0)

#define ZEND_ASYNC_EVENT_EXTRA(ev) ((void *) ((char *) (ev) + (ev)->extra_offset))

/* Only the first start reaches the backend; a closed event stays stopped. */
#define EVENT_START_PROLOGUE(ev) do {                                       \
        if (ZEND_ASYNC_EVENT_IS_CLOSED(ev)) return;                         \
        if ((ev)->loop_ref_count > 0) { (ev)->loop_ref_count++; return; }   \
    } while (0)
/* Only the stop that balances the first start reaches the backend. */
#define EVENT_STOP_PROLOGUE(ev) do {                                        \
        if ((ev)->loop_ref_count == 0) return;                              \
        if ((ev)->loop_ref_count > 1) { (ev)->loop_ref_count--; return; }   \
    } while (0)

#define ZEND_ASYNC_EVENT_CALLBACK_ADD_REF(cb) (++(cb)->ref_count)
/* Drops one reference to a callback; the last one calls its dispose. */
#define ZEND_ASYNC_EVENT_CALLBACK_RELEASE(cb, ev) zend_async_callback_release((cb), (ev))

/* Events active on this thread's loop (started and not stopped). */
extern __thread uint32_t zend_async_active_event_count;
#define ZEND_ASYNC_ACTIVE_EVENT_COUNT zend_async_active_event_count
#define ZEND_ASYNC_INCREASE_EVENT_COUNT (zend_async_active_event_count++)
#define ZEND_ASYNC_DECREASE_EVENT_COUNT \
    (zend_async_active_event_count > 0 ? zend_async_active_event_count-- : 0)

/* ---- the event types ------------------------------------------------------ */

typedef struct _zend_async_poll_event_s zend_async_poll_event_t;
typedef struct _zend_async_timer_event_s zend_async_timer_event_t;
typedef struct _zend_async_signal_event_s zend_async_signal_event_t;
typedef struct _zend_async_process_event_s zend_async_process_event_t;
typedef struct _zend_async_thread_event_s zend_async_thread_event_t;
typedef struct _zend_async_filesystem_event_s zend_async_filesystem_event_t;
typedef struct _zend_async_dns_nameinfo_s zend_async_dns_nameinfo_t;
typedef struct _zend_async_dns_addrinfo_s zend_async_dns_addrinfo_t;
typedef struct _zend_async_exec_event_s zend_async_exec_event_t;

/* Socket or descriptor readiness; fires each time, until stopped.
 * result: async_poll_event * (triggered_events). An error condition on the
 * descriptor stops the event and delivers Async\InputOutputException. */
struct _zend_async_poll_event_s {
    zend_async_event_t base;
    bool is_socket;
    union {
        zend_file_descriptor_t file;
        zend_socket_t socket;
    };
    async_poll_event events;
    async_poll_event triggered_events;
};

/* Fires once after timeout ms + nanoseconds (rounded up to the next ms), or
 * every period if periodic (a period below 1 ms is 1 ms). result: NULL. */
struct _zend_async_timer_event_s {
    zend_async_event_t base;
    zend_ulong timeout;
    zend_ulong nanoseconds;
    bool is_periodic;
};

/* Fires on every delivery of the signal. result: int * (the signal). */
struct _zend_async_signal_event_s {
    zend_async_event_t base;
    int signal;
};

/* Fires once when the child exits, after reaping it. result: zend_long *
 * (exit_code): the exit status 0..255, or minus the signal number if the
 * child was killed by a signal (term_signal then holds it). */
struct _zend_async_process_event_s {
    zend_async_event_t base;
    zend_process_t process;
    zend_long exit_code;
    int term_signal;
};

/* Runs entry(arg) on the libuv thread pool (never touch the engine there;
 * the pool is process-wide, UV_THREADPOOL_SIZE threads, shared with DNS),
 * then fires once on the loop thread. result: entry's return value. A stop
 * cancels it if it has not begun; once running it finishes, unreported. */
typedef void *(*zend_async_thread_entry_t)(void *arg);
struct _zend_async_thread_event_s {
    zend_async_event_t base;
    zend_async_thread_entry_t entry;
    void *arg;
    void *result;
};

/* Fires on every change under path. result: the event itself; read
 * triggered_events (ZEND_ASYNC_FS_EVENT_*) and triggered_filename (name
 * relative to path, or NULL; valid until the next change or dispose).
 * Strings here are persistent. */
struct _zend_async_filesystem_event_s {
    zend_async_event_t base;
    zend_string *path;
    unsigned int flags;
    unsigned int triggered_events;
    zend_string *triggered_filename;
};

/* Reverse lookup, fires once. result: the event itself (hostname, service,
 * owned by the event). Failure: Async\DnsException. */
struct _zend_async_dns_nameinfo_s {
    zend_async_event_t base;
    const char *hostname;
    const char *service;
};

/* Forward lookup, fires once. node/service/hints are copies owned by the
 * event. result: struct addrinfo * (also in `result`). The event owns the
 * list and frees it on dispose; a consumer that keeps it sets `result` to
 * NULL and frees it later with the reactor's freeaddrinfo.
 * Failure: Async\DnsException. */
struct _zend_async_dns_addrinfo_s {
    zend_async_event_t base;
    const char *node;
    const char *service;
    const struct addrinfo *hints;
    struct addrinfo *result;
};

/* Runs `/bin/sh -c cmd` with stdin on /dev/null, fires once when the
 * command has exited and both of its pipes are drained. result: zend_long *
 * (exit_code, encoded as for process events). Before firing it fills the
 * caller's zvals (each may be NULL and must stay valid until then):
 * return_buffer per exec_mode, return_value = exit code, std_error = stderr
 * as a string. timeout (ms, 0 = none) may be set before start; when it
 * elapses the command is killed with SIGKILL and the event fires with
 * Async\TimeoutException (timed_out true). cwd NULL inherits; env NULL
 * inherits, otherwise "K=V\0K=V\0\0". */
struct _zend_async_exec_event_s {
    zend_async_event_t base;
    zend_async_exec_mode exec_mode;
    char *cmd;
    zval *return_buffer;
    zval *return_value;
    zval *std_error;
    char *cwd;
    char *env;
    zend_ulong timeout;
    zend_long exit_code;
    int term_signal;
    bool timed_out;
};

/* ---- the reactor's function slots ---------------------------------------- */

/* Sets up the calling thread's loop; false if that failed. Idempotent. */
typedef bool (*zend_async_reactor_startup_t)(void);
/* Stops and closes every event, closes every other handle on the loop too
 * (without a close callback), waits for thread-pool work in flight, and
 * tears the calling thread's loop down. Events still referenced stay valid
 * (closed) until released. Call it while the request is still alive and
 * not from inside a callback. */
typedef void (*zend_async_reactor_shutdown_t)(void);
/* One loop iteration: waits for at least one event unless no_wait.
 * Returns whether the loop is still alive. */
typedef bool (*zend_async_reactor_execute_t)(bool no_wait);
typedef bool (*zend_async_reactor_loop_alive_t)(void);

typedef zend_async_poll_event_t *(*zend_async_new_socket_event_t)(
    zend_socket_t socket, async_poll_event events, size_t extra_size);
/* Polls fh, or socket when fh is ZEND_FD_INVALID. */
typedef zend_async_poll_event_t *(*zend_async_new_poll_event_t)(
    zend_file_descriptor_t fh, zend_socket_t socket, async_poll_event events, size_t extra_size);
typedef zend_async_timer_event_t *(*zend_async_new_timer_event_t)(
    const zend_ulong timeout, const zend_ulong nanoseconds, const bool is_periodic, size_t extra_size);
typedef zend_async_signal_event_t *(*zend_async_new_signal_event_t)(int signum, size_t extra_size);
typedef zend_async_process_event_t *(*zend_async_new_process_event_t)(
    zend_process_t process_handle, size_t extra_size);
typedef zend_async_thread_event_t *(*zend_async_new_thread_event_t)(
    zend_async_thread_entry_t entry, void *arg, size_t extra_size);
typedef zend_async_filesystem_event_t *(*zend_async_new_filesystem_event_t)(
    zend_string *path, const unsigned int flags, size_t extra_size);

typedef zend_async_dns_nameinfo_t *(*zend_async_getnameinfo_t)(
    const struct sockaddr *addr, int flags, size_t extra_size);
typedef zend_async_dns_addrinfo_t *(*zend_async_getaddrinfo_t)(
    const char *node, const char *service, const struct addrinfo *hints, size_t extra_size);
typedef void (*zend_async_freeaddrinfo_t)(struct addrinfo *ai);

typedef zend_async_exec_event_t *(*zend_async_new_exec_event_t)(
    zend_async_exec_mode exec_mode, const char *cmd, zval *return_buffer, zval *return_value,
    zval *std_error, const char *cwd, const char *env, size_t extra_size);
/* Runs a command to completion and returns its exit code (encoded as for
 * process events); -1 with an exception thrown if it could not be started
 * or ran past timeout ms (0 = none). Fills the zvals like an exec event. */
typedef int (*zend_async_exec_t)(
    zend_async_exec_mode exec_mode, const char *cmd, zval *return_buffer, zval *return_value,
    zval *std_error, const char *cwd, const char *env, const zend_ulong timeout);

/* The registered reactor: one per process. */
typedef struct {
    const char *module;
    zend_async_reactor_startup_t startup;
    zend_async_reactor_shutdown_t shutdown;
    zend_async_reactor_execute_t execute;
    zend_async_reactor_loop_alive_t loop_alive;
    zend_async_new_socket_event_t new_socket_event;
    zend_async_new_poll_event_t new_poll_event;
    zend_async_new_timer_event_t new_timer_event;
    zend_async_new_signal_event_t new_signal_event;
    zend_async_new_process_event_t new_process_event;
    zend_async_new_thread_event_t new_thread_event;
    zend_async_new_filesystem_event_t new_filesystem_event;
    zend_async_getnameinfo_t getnameinfo;
    zend_async_getaddrinfo_t getaddrinfo;
    zend_async_freeaddrinfo_t freeaddrinfo;
    zend_async_new_exec_event_t new_exec_event;
    zend_async_exec_t exec;
} zend_async_reactor_api_t;

extern zend_async_reactor_api_t zend_async_reactor;

/* Fills the registry. Refuses (false) when a reactor is already registered
 * and allow_override is false, or when a slot is NULL. */
bool zend_async_reactor_register(
    const char *module,
    bool allow_override,
    zend_async_reactor_startup_t startup_fn,
    zend_async_reactor_shutdown_t shutdown_fn,
    zend_async_reactor_execute_t execute_fn,
    zend_async_reactor_loop_alive_t loop_alive_fn,
    zend_async_new_socket_event_t new_socket_event_fn,
    zend_async_new_poll_event_t new_poll_event_fn,
    zend_async_new_timer_event_t new_timer_event_fn,
    zend_async_new_signal_event_t new_signal_event_fn,
    zend_async_new_process_event_t new_process_event_fn,
    zend_async_new_thread_event_t new_thread_event_fn,
    zend_async_new_filesystem_event_t new_filesystem_event_fn,
    zend_async_getnameinfo_t getnameinfo_fn,
    zend_async_getaddrinfo_t getaddrinfo_fn,
    zend_async_freeaddrinfo_t freeaddrinfo_fn,
    zend_async_new_exec_event_t new_exec_event_fn,
    zend_async_exec_t exec_fn);

bool zend_async_reactor_is_enabled(void);

/* Accessors; the _EX forms take extra_size. Check
 * zend_async_reactor_is_enabled() before the first use. */
#define ZEND_ASYNC_REACTOR_STARTUP()        zend_async_reactor.startup()
#define ZEND_ASYNC_REACTOR_SHUTDOWN()       zend_async_reactor.shutdown()
#define ZEND_ASYNC_REACTOR_EXECUTE(no_wait) zend_async_reactor.execute(no_wait)
#define ZEND_ASYNC_REACTOR_LOOP_ALIVE()     zend_async_reactor.loop_alive()
#define ZEND_ASYNC_NEW_SOCKET_EVENT(s, ev)            zend_async_reactor.new_socket_event((s), (ev), 0)
#define ZEND_ASYNC_NEW_SOCKET_EVENT_EX(s, ev, extra)  zend_async_reactor.new_socket_event((s), (ev), (extra))
#define ZEND_ASYNC_NEW_POLL_EVENT(fh, s, ev)           zend_async_reactor.new_poll_event((fh), (s), (ev), 0)
#define ZEND_ASYNC_NEW_POLL_EVENT_EX(fh, s, ev, extra) zend_async_reactor.new_poll_event((fh), (s), (ev), (extra))
#define ZEND_ASYNC_NEW_TIMER_EVENT(ms, periodic) \
    zend_async_reactor.new_timer_event((ms), 0, (periodic), 0)
#define ZEND_ASYNC_NEW_TIMER_EVENT_EX(ms, ns, periodic, extra) \
    zend_async_reactor.new_timer_event((ms), (ns), (periodic), (extra))
#define ZEND_ASYNC_NEW_SIGNAL_EVENT(sig)              zend_async_reactor.new_signal_event((sig), 0)
#define ZEND_ASYNC_NEW_SIGNAL_EVENT_EX(sig, extra)    zend_async_reactor.new_signal_event((sig), (extra))
#define ZEND_ASYNC_NEW_PROCESS_EVENT(pid)             zend_async_reactor.new_process_event((pid), 0)
#define ZEND_ASYNC_NEW_PROCESS_EVENT_EX(pid, extra)   zend_async_reactor.new_process_event((pid), (extra))
#define ZEND_ASYNC_NEW_THREAD_EVENT(entry, arg)       zend_async_reactor.new_thread_event((entry), (arg), 0)
#define ZEND_ASYNC_NEW_THREAD_EVENT_EX(entry, arg, extra) \
    zend_async_reactor.new_thread_event((entry), (arg), (extra))
#define ZEND_ASYNC_NEW_FILESYSTEM_EVENT(path, flags)  zend_async_reactor.new_filesystem_event((path), (flags), 0)
#define ZEND_ASYNC_NEW_FILESYSTEM_EVENT_EX(path, flags, extra) \
    zend_async_reactor.new_filesystem_event((path), (flags), (extra))
#define ZEND_ASYNC_GETNAMEINFO(addr, flags)           zend_async_reactor.getnameinfo((addr), (flags), 0)
#define ZEND_ASYNC_GETNAMEINFO_EX(addr, flags, extra) zend_async_reactor.getnameinfo((addr), (flags), (extra))
#define ZEND_ASYNC_GETADDRINFO(node, service, hints)  zend_async_reactor.getaddrinfo((node), (service), (hints), 0)
#define ZEND_ASYNC_GETADDRINFO_EX(node, service, hints, extra) \
    zend_async_reactor.getaddrinfo((node), (service), (hints), (extra))
#define ZEND_ASYNC_FREEADDRINFO(ai)                   zend_async_reactor.freeaddrinfo(ai)
#define ZEND_ASYNC_NEW_EXEC_EVENT(mode, cmd, buf, rv, err, cwd, env) \
    zend_async_reactor.new_exec_event((mode), (cmd), (buf), (rv), (err), (cwd), (env), 0)
#define ZEND_ASYNC_NEW_EXEC_EVENT_EX(mode, cmd, buf, rv, err, cwd, env, extra) \
    zend_async_reactor.new_exec_event((mode), (cmd), (buf), (rv), (err), (cwd), (env), (extra))
#define ZEND_ASYNC_EXEC(mode, cmd, buf, rv, err, cwd, env, timeout) \
    zend_async_reactor.exec((mode), (cmd), (buf), (rv), (err), (cwd), (env), (timeout))

/* ---- callback vector helpers (the generic add/del/notify/free) ------------ */

/* Appends and takes a reference; adding the same callback twice is a no-op. */
void zend_async_callbacks_push(zend_async_event_t *event, zend_async_event_callback_t *callback);
/* Removes and drops the event's reference; unknown callbacks are ignored. */
void zend_async_callbacks_remove(zend_async_event_t *event, zend_async_event_callback_t *callback);
/* Calls every callback registered when the notification began, in order.
 * Callbacks may add or remove callbacks and release the event meanwhile: the
 * event is kept alive until the last callback has returned. A callback that
 * leaves EG(exception) set does not stop the others. */
void zend_async_callbacks_notify(zend_async_event_t *event, void *result, zend_object *exception);
/* Drops every callback (each gets its dispose if this was its last ref). */
void zend_async_callbacks_free(zend_async_event_t *event);
void zend_async_callback_release(zend_async_event_callback_t *callback, zend_async_event_t *event);

/* The default add_callback/del_callback methods. */
void zend_async_event_add_callback(zend_async_event_t *event, zend_async_event_callback_t *callback);
void zend_async_event_del_callback(zend_async_event_t *event, zend_async_event_callback_t *callback);

/* ---- exceptions ------------------------------------------------------------ */

/* Every Async\ exception class, so that the reactor, the scheduler and the
 * userland API all reach them here, below themselves. */
extern zend_class_entry *ta_ce_async_exception;        /* Async\AsyncException */
extern zend_class_entry *ta_ce_dns_exception;          /* Async\DnsException */
extern zend_class_entry *ta_ce_input_output_exception; /* Async\InputOutputException */
extern zend_class_entry *ta_ce_async_cancellation;     /* Async\AsyncCancellation (alias: CancellationError) */
extern zend_class_entry *ta_ce_operation_canceled;      /* Async\OperationCanceledException */
extern zend_class_entry *ta_ce_deadlock_error;          /* Async\DeadlockError */
extern zend_class_entry *ta_ce_composite_exception;     /* Async\CompositeException */
extern zend_class_entry *ta_ce_service_unavailable;     /* Async\ServiceUnavailableException */
extern zend_class_entry *ta_ce_context_exception;       /* Async\ContextException */
extern zend_class_entry *ta_ce_poll_exception;          /* Async\PollException */
extern zend_class_entry *ta_ce_timeout_exception;      /* Async\TimeoutException */
extern zend_class_entry *ta_ce_channel_exception;      /* Async\ChannelException */

/* Registers them, as stubs/ta_async_api.stub.php declares them (the tree:
 * \Cancellation, an Error, above AsyncCancellation; AsyncException and the
 * I/O ones are Exceptions). Call once, from the module's MINIT, before
 * anything that names them. */
void ta_async_exceptions_register(void);
/* Appends ex to an Async\CompositeException's list (a reference is taken). */
void ta_composite_add(zend_object *composite, zend_object *ex);

/* A new exception object of class ce (message formatted, code set), NOT
 * thrown: EG(exception) is left alone. The caller owns one reference. */
zend_object *ta_async_new_exception(zend_class_entry *ce, zend_long code, const char *format, ...)
    ZEND_ATTRIBUTE_FORMAT(printf, 3, 4);

/* ---- a reactor abandoned after a bailout ---------------------------------- */

/* How many times this thread's reactor was abandoned. An object that keeps
 * an event across requests notes it when it takes the event, and leaves the
 * event alone once it changed: the reactor has freed it. */
uint32_t ta_async_reactor_generation(void);
/* The reactor's abandon (ta_reactor_abandon) calls this, and nothing else:
 * it is how every layer above learns of it. */
void ta_async_reactor_abandoned(void);

#endif
