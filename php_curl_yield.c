/* curl_exec() and curl_multi_select() yield inside coroutines. libphp
 * calls libcurl through its PLT, and this module is the root of the
 * dlopen that brings libphp in, so the two libcurl entry points below
 * are found here first: inside a coroutine they drive the transfer through
 * a multi handle and wait for its sockets on the reactor; anywhere else
 * they are libcurl's own. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "php_common.h"
#include "php_stream_yield.h"
#include "scheduler.h"
#include "ta_async_api.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <sys/select.h>

#define TA_EXPORT __attribute__((visibility("default")))

typedef CURLcode (*easy_perform_fn)(CURL *);
typedef CURLMcode (*multi_wait_fn)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);

static easy_perform_fn real_easy_perform(void)
{
    static easy_perform_fn fn;
    if (!fn) fn = (easy_perform_fn) dlsym(RTLD_NEXT, "curl_easy_perform");
    return fn;
}

static multi_wait_fn real_multi_wait(void)
{
    static multi_wait_fn fn;
    if (!fn) fn = (multi_wait_fn) dlsym(RTLD_NEXT, "curl_multi_wait");
    return fn;
}

/* Waits on the reactor for the multi handle's sockets or its timeout (at
 * most limit_ms; -1 none). Returns 1 if a socket got ready, 0 on timeout,
 * -1 if the coroutine was cancelled. */
static int wait_multi(CURLM *m, long limit_ms)
{
    fd_set r, w, e;
    int maxfd = -1;
    FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&e);
    if (curl_multi_fdset(m, &r, &w, &e, &maxfd) != CURLM_OK) maxfd = -1;
    long ms = -1;
    curl_multi_timeout(m, &ms);
    if (limit_ms >= 0 && (ms < 0 || ms > limit_ms)) ms = limit_ms;
    /* no sockets yet and no timeout: curl wants to be called again soon */
    if (maxfd < 0 && ms < 0) ms = 10;
    int fds[FD_SETSIZE], evs[FD_SETSIZE], n = 0;
    for (int fd = 0; fd <= maxfd && n < FD_SETSIZE; fd++) {
        int ev = (FD_ISSET(fd, &r) ? ASYNC_READABLE : 0) | (FD_ISSET(fd, &w) ? ASYNC_WRITABLE : 0);
        if (ev) { fds[n] = fd; evs[n] = ev; n++; }
    }
    if (n == 0 && ms == 0) return 0;
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    return ta_wait_fds(fds, evs, n, ms >= 0 ? &tv : NULL);
}

TA_EXPORT CURLcode curl_easy_perform(CURL *easy)
{
    if (!ta_coro_current()) return real_easy_perform()(easy);
    CURLM *m = curl_multi_init();
    if (!m) return real_easy_perform()(easy);
    if (curl_multi_add_handle(m, easy) != CURLM_OK) {
        curl_multi_cleanup(m);
        return real_easy_perform()(easy);
    }
    CURLcode result = CURLE_OK;
    int running = 1;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) { result = CURLE_FAILED_INIT; break; }
        if (!running) break;
        if (wait_multi(m, -1) < 0) { result = CURLE_ABORTED_BY_CALLBACK; break; }
    }
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) result = msg->data.result;
    curl_multi_remove_handle(m, easy);
    curl_multi_cleanup(m);
    return result;
}

/* curl_multi_select() in PHP: waits on the reactor, then reports ready
 * descriptors the way curl_multi_wait would (a count, 0 on timeout). */
TA_EXPORT CURLMcode curl_multi_wait(CURLM *m, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                                    int timeout_ms, int *numfds)
{
    if (!ta_coro_current() || extra_nfds) return real_multi_wait()(m, extra_fds, extra_nfds, timeout_ms, numfds);
    int r = wait_multi(m, timeout_ms);
    if (numfds) *numfds = r > 0 ? 1 : 0;
    return CURLM_OK;
}
