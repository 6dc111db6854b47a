/* Exec events: a shell command run to completion, its output collected
 * the way PHP's exec(), system(), passthru() and shell_exec() hand it back.
 * Made by the contract's new_exec_event slot; its blocking form (the exec
 * slot) runs one on a private loop. php_blocking.c calls both. */
#include "reactor_event.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zend_smart_str.h>

extern char **environ;

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

TA_EV_METHODS(exec, ta_exec, ev)

static zend_class_entry *timeout_ce(void)
{
    return ta_ce_timeout_exception ? ta_ce_timeout_exception : ta_ce_async_exception;
}

static void exec_close_pipe(ta_exec *x, uv_pipe_t *p)
{
    if (p == &x->out) x->out_open = false; else x->err_open = false;
    ta_ev_close((uv_handle_t *) p);
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
    ta_ev_stop_all(e);
    if (!active || !ta_ev_can_notify(&x->ev)) return;
    exec_fill(x);
    if (x->event.timed_out) {
        ta_ev_notify_error(&x->ev, timeout_ce(), 0, "Command timed out after %lu ms: %s",
                        (unsigned long) x->event.timeout, x->event.cmd);
        return;
    }
    ta_ev_notify(&x->ev, &x->event.exit_code);
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
        if (echo && ta_ev_can_notify(ev) && x->event.base.loop_ref_count > 0) {
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
    if (!ZEND_ASYNC_EVENT_IS_DISPOSED(&x->event.base) && ta_ev_can_notify(&x->ev)) exec_maybe_done(x);
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

/* Spawns the command and watches its exit, output and timeout; false
 * after throwing (the event is then closed). */
static bool exec_launch(ta_exec *x)
{
    zend_async_event_t *e = &x->event.base;
    int out_fd, err_fd;
    int rc = exec_spawn(x, &out_fd, &err_fd);
    if (rc != 0) {
        ZEND_ASYNC_EVENT_SET_CLOSED(e);
        zend_throw_error(NULL, "Failed to run command %s: %s", x->event.cmd, ta_ev_strerror(-rc));
        return false;
    }
    x->spawned = true;
    x->watch = ta_process_create(x->ev.reactor, x->pid, 0);
    if (!x->watch) {
        /* cannot happen for our own child; do not leave it behind */
        exec_kill_reap(x);
        close(out_fd);
        close(err_fd);
        ZEND_ASYNC_EVENT_SET_CLOSED(e);
        return false;
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
    return true;
}

static bool exec_arm(ta_ev *ev)
{
    ta_exec *x = (ta_exec *) ev->event;
    return x->spawned || exec_launch(x);
}

/* The command runs on, unwatched; its completion is recorded but not told. */
static void exec_disarm(ta_ev *ev) { (void) ev; }

static void exec_release_uv(ta_ev *ev)
{
    ta_exec *x = (ta_exec *) ev->event;
    ta_ev_close((uv_handle_t *) &x->timer);
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

static const ta_ev_ops exec_ops = {
    exec_arm, exec_disarm, exec_release_uv, exec_cleanup,
    exec_start, exec_stop, exec_dispose
};

static ta_exec *exec_create(ta_reactor *r, zend_async_exec_mode exec_mode, const char *cmd,
                            zval *return_buffer, zval *return_value, zval *std_error,
                            const char *cwd, const char *env, size_t extra_size)
{
    if (cmd == NULL || exec_mode < ZEND_ASYNC_EXEC_MODE_EXEC || exec_mode > ZEND_ASYNC_EXEC_MODE_SHELL_EXEC) {
        zend_throw_error(NULL, "Failed to create exec event: %s", ta_ev_strerror(UV_EINVAL));
        return NULL;
    }
    ta_exec *x = ta_ev_alloc(sizeof *x, extra_size);
    ta_ev_init(&x->ev, &x->event.base, sizeof *x, &exec_ops);
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
    ta_ev_adopt(&x->ev, (uv_handle_t *) &x->out);
    uv_pipe_init(&r->loop, &x->err, 0);
    ta_ev_adopt(&x->ev, (uv_handle_t *) &x->err);
    uv_timer_init(&r->loop, &x->timer);
    ta_ev_adopt(&x->ev, (uv_handle_t *) &x->timer);
    ta_ev_link(&x->ev, r);
    return x;
}

zend_async_exec_event_t *ta_exec_new(zend_async_exec_mode exec_mode, const char *cmd,
                                     zval *return_buffer, zval *return_value, zval *std_error,
                                     const char *cwd, const char *env, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("exec event");
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
int ta_exec_run(zend_async_exec_mode exec_mode, const char *cmd, zval *return_buffer,
                zval *return_value, zval *std_error, const char *cwd, const char *env,
                const zend_ulong timeout)
{
    ta_reactor *r = ta_reactor_new();
    if (!r) {
        zend_throw_error(NULL, "Failed to run command %s: %s", cmd ? cmd : "", ta_ev_strerror(UV_ENOMEM));
        return -1;
    }
    ta_exec *x = exec_create(r, exec_mode, cmd, return_buffer, return_value, std_error, cwd, env, 0);
    if (!x) {
        ta_reactor_destroy(r, false);
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
    ta_reactor_destroy(r, false);
    if (w.exception) {
        zval ex;
        ZVAL_OBJ(&ex, w.exception);
        zend_throw_exception_object(&ex);
        return -1;
    }
    return code;
}

