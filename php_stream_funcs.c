/* PHP functions on socket streams that wait, hooked: stream_select() on
 * the reactor, fclose() in its turn on a shared socket, and the streams of
 * stream_socket_pair() made to yield as the transports' do. */
#include "php_common.h"
#include "php_stream_funcs.h"
#include "php_stream_yield.h"
#include "php_stream_guard.h"
#include "coro_wait.h"
#include "scheduler.h"
#include "php_fn_hook.h"

#include <zend_fibers.h>

#include <main/php_network.h>

/* ---- stream_select ------------------------------------------------------------ */

static zif_handler orig_stream_select;

/* Adds the descriptors of a stream_select() array; false if a stream has
 * buffered data (then PHP's own stream_select answers at once). */
static bool collect_fds(zval *arr, int events, int **fds, int **evs, int *n, int *cap)
{
    if (!arr) return true;
    ZVAL_DEREF(arr);
    if (Z_TYPE_P(arr) != IS_ARRAY) return true;
    zval *zv;
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(arr), zv) {
        php_stream *stream = NULL;
        ZVAL_DEREF(zv);
        if (Z_TYPE_P(zv) != IS_RESOURCE) continue;
        php_stream_from_zval_no_verify(stream, zv);
        if (!stream) continue;
        if (events == ASYNC_READABLE && stream->writepos - stream->readpos > 0) return false;
        php_socket_t fd;
        if (php_stream_cast(stream, PHP_STREAM_AS_FD_FOR_SELECT | PHP_STREAM_CAST_INTERNAL, (void **) &fd, 1) != SUCCESS
            || fd < 0) continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *fds = erealloc(*fds, (size_t) *cap * sizeof **fds);
            *evs = erealloc(*evs, (size_t) *cap * sizeof **evs);
        }
        (*fds)[*n] = fd;
        (*evs)[*n] = events;
        (*n)++;
    } ZEND_HASH_FOREACH_END();
    return true;
}

/* Inside a coroutine, waits on the reactor for the first ready stream (or
 * the timeout), then lets PHP's stream_select() fill the arrays without
 * waiting. */
static ZEND_FUNCTION(ta_stream_select)
{
    uint32_t argc = ZEND_NUM_ARGS();
    if (!ta_coro_current() || argc < 4) { orig_stream_select(INTERNAL_FUNCTION_PARAM_PASSTHRU); return; }
    zval *sec = ZEND_CALL_ARG(execute_data, 4), *usec = argc >= 5 ? ZEND_CALL_ARG(execute_data, 5) : NULL;
    ZVAL_DEREF(sec);
    if (usec) ZVAL_DEREF(usec);
    if ((Z_TYPE_P(sec) != IS_NULL && Z_TYPE_P(sec) != IS_LONG) || (usec && Z_TYPE_P(usec) != IS_NULL && Z_TYPE_P(usec) != IS_LONG)
        || (Z_TYPE_P(sec) == IS_LONG && Z_LVAL_P(sec) < 0) || (usec && Z_TYPE_P(usec) == IS_LONG && Z_LVAL_P(usec) < 0)) {
        orig_stream_select(INTERNAL_FUNCTION_PARAM_PASSTHRU);      /* PHP's own argument errors */
        return;
    }
    struct timeval tv = {0, 0}, *ptv = NULL;
    if (Z_TYPE_P(sec) == IS_LONG) {
        zend_long us = usec && Z_TYPE_P(usec) == IS_LONG ? Z_LVAL_P(usec) : 0;
        tv.tv_sec = (time_t) (Z_LVAL_P(sec) + us / 1000000);
        tv.tv_usec = (suseconds_t) (us % 1000000);
        ptv = &tv;
    }
    if (!ptv || tv.tv_sec || tv.tv_usec) {
        int *fds = NULL, *evs = NULL, n = 0, cap = 0;
        bool wait = collect_fds(ZEND_CALL_ARG(execute_data, 1), ASYNC_READABLE, &fds, &evs, &n, &cap)
                 && collect_fds(ZEND_CALL_ARG(execute_data, 2), ASYNC_WRITABLE, &fds, &evs, &n, &cap);
        int r = wait && (n > 0 || ptv) ? ta_wait_fds(fds, evs, n, ptv) : 1;
        if (fds) efree(fds);
        if (evs) efree(evs);
        if (r < 0) RETURN_THROWS();
        /* Now PHP's own select, not waiting: same results as PHP's. */
        zval_ptr_dtor(sec);
        ZVAL_LONG(sec, 0);
        if (usec) { zval_ptr_dtor(usec); ZVAL_LONG(usec, 0); }
    }
    orig_stream_select(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

static zif_handler orig_stream_socket_pair, orig_fclose;

/* fclose() of a socket: php-async closes it on the loop, the coroutine
 * resuming once the loop ran (after those ready meanwhile). */
static ZEND_FUNCTION(ta_fclose)
{
    zval *res = ZEND_NUM_ARGS() == 1 ? ZEND_CALL_ARG(execute_data, 1) : NULL;
    php_stream *stream = NULL;
    if (res && Z_TYPE_P(res) == IS_RESOURCE && !EG(exception)) {
        php_stream_from_zval_no_verify(stream, res);
        /* outside coroutines, in a destructor or the GC nothing may wait: a
         * shared stream another request holds is closed when it lets go */
        if (stream && ta_stream_is_wrapped(stream) && (!ta_coro_current() || zend_fiber_switch_blocked())) {
            if (ta_stream_guard_close_later(stream)) RETURN_TRUE;
        } else if (stream && ta_stream_is_wrapped(stream)) {
            /* a shared stream closes in its turn; those waiting for it then
             * give up, and run before it goes */
            int g = ta_stream_guard_close(stream);
            if (g == -1) RETURN_THROWS();
            if (g == 0 && ta_coro_yield_to_loop() == FAILURE) {
                zend_exception_save();          /* cancelled meanwhile: closed all the same */
                orig_fclose(INTERNAL_FUNCTION_PARAM_PASSTHRU);
                zend_exception_restore();
                return;
            }
        }
    }
    orig_fclose(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

/* stream_socket_pair(): sockets no transport made, given the waiting
 * operations too. */
static ZEND_FUNCTION(ta_stream_socket_pair)
{
    orig_stream_socket_pair(INTERNAL_FUNCTION_PARAM_PASSTHRU);
    if (Z_TYPE_P(return_value) != IS_ARRAY) return;
    zval *zv;
    ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(return_value), zv) {
        php_stream *stream = NULL;
        if (Z_TYPE_P(zv) != IS_RESOURCE) continue;
        php_stream_from_zval_no_verify(stream, zv);
        if (stream) ta_stream_wrap_plain(stream);
    } ZEND_HASH_FOREACH_END();
}

void ta_stream_select_install(void)
{
    static const ta_fn_hook hooks[] = {
        { "stream_select", &orig_stream_select, zif_ta_stream_select },
        { "stream_socket_pair", &orig_stream_socket_pair, zif_ta_stream_socket_pair },
        { "fclose", &orig_fclose, zif_ta_fclose },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}
