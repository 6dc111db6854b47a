#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "php_common.h"
#include "php_proc_yield.h"
#include "coro_wait.h"
#include "php_fn_hook.h"
#include "scheduler.h"
#include "ta_async_api.h"

#include <main/streams/php_stream_plain_wrapper.h>
#include <ext/standard/proc_open.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Pipe streams of a process keep PHP's stdio ops, except that a read or
 * write that would wait suspends the coroutine until the descriptor is
 * ready. The stdio ops are put back around every call into them. */
static php_stream_ops pipe_ops;

static int pipe_fd(php_stream *stream)
{
    int fd = -1;
    stream->ops = &php_stream_stdio_ops;
    if (php_stream_cast(stream, PHP_STREAM_AS_FD | PHP_STREAM_CAST_INTERNAL, (void **) &fd, 0) != SUCCESS) fd = -1;
    stream->ops = &pipe_ops;
    return fd;
}

/* Only a blocking descriptor read or written in a coroutine needs a wait. */
static int waiting_fd(php_stream *stream)
{
    if (!ta_coro_current()) return -1;
    int fd = pipe_fd(stream);
    if (fd < 0) return -1;
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && !(fl & O_NONBLOCK) ? fd : -1;
}

#define STDIO_CALL(stream, expr) ({                                  \
        (stream)->ops = &php_stream_stdio_ops;                       \
        __typeof__(expr) r_ = (expr);                                \
        (stream)->ops = &pipe_ops;                                   \
        r_; })

static ssize_t p_read(php_stream *stream, char *buf, size_t count)
{
    int fd = waiting_fd(stream);
    if (fd >= 0 && ta_wait_fd(fd, ASYNC_READABLE, NULL) < 0) return -1;
    return STDIO_CALL(stream, php_stream_stdio_ops.read(stream, buf, count));
}

static ssize_t p_write(php_stream *stream, const char *buf, size_t count)
{
    int fd = waiting_fd(stream);
    if (fd >= 0 && ta_wait_fd(fd, ASYNC_WRITABLE, NULL) < 0) return -1;
    return STDIO_CALL(stream, php_stream_stdio_ops.write(stream, buf, count));
}

static int p_close(php_stream *s, int h) { return STDIO_CALL(s, php_stream_stdio_ops.close(s, h)); }
static int p_flush(php_stream *s) { return STDIO_CALL(s, php_stream_stdio_ops.flush(s)); }
static int p_seek(php_stream *s, zend_off_t o, int w, zend_off_t *n) { return STDIO_CALL(s, php_stream_stdio_ops.seek(s, o, w, n)); }
static int p_cast(php_stream *s, int as, void **ret) { return STDIO_CALL(s, php_stream_stdio_ops.cast(s, as, ret)); }
static int p_stat(php_stream *s, php_stream_statbuf *sb) { return STDIO_CALL(s, php_stream_stdio_ops.stat(s, sb)); }
static int p_set_option(php_stream *s, int o, int v, void *p) { return STDIO_CALL(s, php_stream_stdio_ops.set_option(s, o, v, p)); }

static zif_handler orig_proc_open, orig_proc_close;

static ZEND_FUNCTION(ta_proc_open)
{
    zval *pipes = NULL;
    if (ZEND_NUM_ARGS() >= 3) pipes = ZEND_CALL_ARG(execute_data, 3);
    orig_proc_open(INTERNAL_FUNCTION_PARAM_PASSTHRU);
    if (Z_TYPE_P(return_value) != IS_RESOURCE || !pipes) return;
    ZVAL_DEREF(pipes);
    if (Z_TYPE_P(pipes) != IS_ARRAY) return;
    zval *zv;
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(pipes), zv) {
        php_stream *stream = NULL;
        if (Z_TYPE_P(zv) == IS_RESOURCE) php_stream_from_zval_no_verify(stream, zv);
        if (stream && stream->ops == &php_stream_stdio_ops) stream->ops = &pipe_ops;
    } ZEND_HASH_FOREACH_END();
}

/* The child's pid, if the argument is a process resource. */
static pid_t process_pid(zval *zv)
{
    if (Z_TYPE_P(zv) != IS_RESOURCE) return -1;
    const char *type = zend_rsrc_list_get_rsrc_type(Z_RES_P(zv));
    if (!type || strcmp(type, "process") != 0 || !Z_RES_P(zv)->ptr) return -1;
    return ((php_process_handle *) Z_RES_P(zv)->ptr)->child;
}

/* proc_close() waits for the child: a pidfd turns readable when it exits
 * without reaping it, so PHP's own proc_close then collects the status. */
static ZEND_FUNCTION(ta_proc_close)
{
    if (ta_coro_current() && ZEND_NUM_ARGS() == 1) {
        pid_t pid = process_pid(ZEND_CALL_ARG(execute_data, 1));
        if (pid > 0) {
            /* PHP closes the pipes first, so the child sees EOF on stdin. */
            php_process_handle *proc = Z_RES_P(ZEND_CALL_ARG(execute_data, 1))->ptr;
            for (int i = 0; i < proc->npipes; i++) {
                if (proc->pipes[i] && proc->pipes[i]->type != -1) {
                    zend_list_close(proc->pipes[i]);
                }
            }
            int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
            if (pfd >= 0) {
                int r = ta_wait_fd(pfd, ASYNC_READABLE, NULL);
                close(pfd);
                if (r < 0) RETURN_THROWS();
            }
        }
    }
    orig_proc_close(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

void ta_proc_yield_install(void)
{
    pipe_ops = php_stream_stdio_ops;
    pipe_ops.read = p_read;
    pipe_ops.write = p_write;
    pipe_ops.close = p_close;
    pipe_ops.flush = p_flush;
    pipe_ops.seek = php_stream_stdio_ops.seek ? p_seek : NULL;
    pipe_ops.cast = php_stream_stdio_ops.cast ? p_cast : NULL;
    pipe_ops.stat = php_stream_stdio_ops.stat ? p_stat : NULL;
    pipe_ops.set_option = php_stream_stdio_ops.set_option ? p_set_option : NULL;
    static const ta_fn_hook hooks[] = {
        { "proc_open", &orig_proc_open, zif_ta_proc_open },
        { "proc_close", &orig_proc_close, zif_ta_proc_close },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}
