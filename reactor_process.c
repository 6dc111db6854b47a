/* Process events: fire once when a child exits, after reaping it. Made by
 * the contract's new_process_event slot and by exec events
 * (reactor_exec.c) for their shell.
 *
 * A pidfd (Linux 5.3+) becomes readable when the process exits; elsewhere,
 * or where pidfd_open is refused, every SIGCHLD triggers a waitpid(pid,
 * WNOHANG) for our pid only. A 0 ms timer covers an exit that happened
 * before the watcher was in place. */
#include "reactor_apr.h"
#include "reactor_event.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

TA_EV_METHODS(process, ta_process, ev)

static bool g_use_pidfd = true;

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

static pid_t wait_nohang(pid_t pid, int *status)
{
    pid_t w;
    do {
        w = waitpid(pid, status, WNOHANG);
    } while (w < 0 && errno == EINTR);
    return w;
}

/* ---- watching for the exit ------------------------------------------------------ */

/* Reaps the child if it is gone; false if it runs on or waiting failed
 * (then the event is closed and the error told). */
static bool process_reap(ta_process *x, int poll_status)
{
    zend_async_event_t *e = &x->event.base;
    int st;
    pid_t w = wait_nohang(x->event.process, &st);
    if (w == 0 && poll_status == 0) return false;   /* not yet: a sibling's SIGCHLD */
    if (w <= 0) {
        int err = w < 0 ? uv_translate_sys_error(errno) : poll_status;
        ZEND_ASYNC_EVENT_SET_CLOSED(e);
        ta_ev_stop_all(e);
        ta_ev_notify_error(&x->ev, ta_ce_async_exception, err, "Failed to wait for process %d: %s",
                           (int) x->event.process, ta_ev_strerror(err));
        return false;
    }
    x->reaped = true;
    x->status = st;
    return true;
}

static void process_check(ta_process *x, int poll_status)
{
    zend_async_event_t *e = &x->event.base;
    if (ZEND_ASYNC_EVENT_IS_CLOSED(e)) return;
    if (!x->reaped && !process_reap(x, poll_status)) return;
    if (WIFSIGNALED(x->status)) {
        x->event.term_signal = WTERMSIG(x->status);
        x->event.exit_code = -(zend_long) x->event.term_signal;
    } else {
        x->event.term_signal = 0;
        x->event.exit_code = WEXITSTATUS(x->status);
    }
    ZEND_ASYNC_EVENT_SET_CLOSED(e);
    ta_ev_stop_all(e);
    ta_ev_notify(&x->ev, &x->event.exit_code);
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

static void process_disarm(ta_ev *ev)
{
    ta_process *x = (ta_process *) ev->event;
    if (x->has_poll) uv_poll_stop(&x->pidfd_poll);
    if (x->has_sigchld) uv_signal_stop(&x->sigchld);
    uv_timer_stop(&x->kick);
}

static bool process_arm(ta_ev *ev)
{
    ta_process *x = (ta_process *) ev->event;
    int rc = 0;
    if (x->has_poll) rc = uv_poll_start(&x->pidfd_poll, UV_READABLE, process_pidfd_ready);
    else if (x->has_sigchld) rc = uv_signal_start(&x->sigchld, process_sigchld, SIGCHLD);
    if (rc == 0 && (x->reaped || x->has_sigchld)) rc = uv_timer_start(&x->kick, process_kick, 0, 0);
    if (rc < 0) process_disarm(ev);
    return ta_ev_started(rc, "Failed to watch process %d", (int) x->event.process);
}

static void process_release_uv(ta_ev *ev)
{
    ta_process *x = (ta_process *) ev->event;
    if (x->has_poll) ta_ev_close((uv_handle_t *) &x->pidfd_poll);
    if (x->has_sigchld) ta_ev_close((uv_handle_t *) &x->sigchld);
    ta_ev_close((uv_handle_t *) &x->kick);
}

static void process_cleanup(ta_ev *ev)
{
    ta_process *x = (ta_process *) ev->event;
    if (x->pidfd >= 0) close(x->pidfd);
}

static const ta_ev_ops process_ops = {
    process_arm, process_disarm, process_release_uv, process_cleanup,
    process_start, process_stop, process_dispose
};

/* ---- creation ------------------------------------------------------------------------ */

/* Watches a pidfd where there is one; false if neither it nor SIGCHLD
 * could be set up (the error thrown). */
static bool process_watch(ta_process *x, ta_reactor *r)
{
    if (!x->reaped) x->pidfd = open_pidfd(x->event.process);
    if (x->pidfd >= 0) {
        if (uv_poll_init(&r->loop, &x->pidfd_poll, x->pidfd) == 0) {
            x->has_poll = true;
            ta_ev_adopt(&x->ev, (uv_handle_t *) &x->pidfd_poll);
        } else {
            close(x->pidfd);
            x->pidfd = -1;
        }
    }
    if (x->reaped || x->has_poll) return true;
    int rc = uv_signal_init(&r->loop, &x->sigchld);
    if (rc < 0) {
        zend_throw_error(NULL, "Failed to watch process %d: %s", (int) x->event.process, ta_ev_strerror(rc));
        return false;
    }
    x->has_sigchld = true;
    ta_ev_adopt(&x->ev, (uv_handle_t *) &x->sigchld);
    return true;
}

zend_async_process_event_t *ta_process_create(ta_reactor *r, zend_process_t pid, size_t extra_size)
{
    int st = 0;
    /* Only a child of ours can be waited for; say so now, not later. */
    pid_t w = pid > 0 ? wait_nohang(pid, &st) : (errno = EINVAL, -1);
    if (w < 0) {
        zend_throw_error(NULL, "Failed to watch process %d: %s", (int) pid,
                         ta_ev_strerror(uv_translate_sys_error(errno)));
        return NULL;
    }
    ta_process *x = ta_ev_alloc(sizeof *x, extra_size);
    ta_ev_init(&x->ev, &x->event.base, sizeof *x, &process_ops);
    x->event.process = pid;
    x->pidfd = -1;
    if (w == pid) {
        x->reaped = true;   /* already gone: the kick timer reports it */
        x->status = st;
    }
    uv_timer_init(&r->loop, &x->kick);
    ta_ev_adopt(&x->ev, (uv_handle_t *) &x->kick);
    bool watched = process_watch(x, r);
    ta_ev_link(&x->ev, r);
    if (!watched) {
        /* The kick timer is a live handle: go the disposing way. */
        ta_ev_dispose(&x->ev);
        return NULL;
    }
    return &x->event;
}

zend_async_process_event_t *ta_process_new(zend_process_t pid, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("process event");
    return r ? ta_process_create(r, pid, extra_size) : NULL;
}
