/* curl_exec() and curl_multi_select() yield inside coroutines. libphp
 * calls libcurl through its PLT, and this module is the root of the
 * dlopen that brings libphp in, so the libcurl entry points below are
 * found here first: inside a coroutine they drive the transfer through
 * a multi handle and wait for its sockets on the reactor; anywhere else
 * they are libcurl's own. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "php_common.h"
#include "coro_wait.h"
#include "scheduler.h"
#include "ta_async_api.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <sys/select.h>
#include <string.h>

#define TA_EXPORT __attribute__((visibility("default")))

typedef CURLcode (*easy_perform_fn)(CURL *);
typedef void (*easy_cleanup_fn)(CURL *);
typedef CURLMcode (*multi_wait_fn)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);

static easy_perform_fn real_easy_perform(void)
{
    static easy_perform_fn fn;
    if (!fn) fn = (easy_perform_fn) dlsym(RTLD_NEXT, "curl_easy_perform");
    return fn;
}

static easy_cleanup_fn real_easy_cleanup(void)
{
    static easy_cleanup_fn fn;
    if (!fn) fn = (easy_cleanup_fn) dlsym(RTLD_NEXT, "curl_easy_cleanup");
    return fn;
}

static multi_wait_fn real_multi_wait(void)
{
    static multi_wait_fn fn;
    if (!fn) fn = (multi_wait_fn) dlsym(RTLD_NEXT, "curl_multi_wait");
    return fn;
}

/* The sockets and timeout libcurl asks us to watch (its socket API, which
 * has no FD_SETSIZE limit, unlike curl_multi_fdset). */
typedef struct {
    int fds[64], evs[64], n;
    long timeout_ms;
} ta_curl_watch;

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void) easy; (void) socketp;
    ta_curl_watch *w = userp;
    int i;
    for (i = 0; i < w->n && w->fds[i] != s; i++) {}
    if (what == CURL_POLL_REMOVE) {
        if (i < w->n) { w->fds[i] = w->fds[w->n - 1]; w->evs[i] = w->evs[w->n - 1]; w->n--; }
        return 0;
    }
    int ev = ((what & CURL_POLL_IN) ? ASYNC_READABLE : 0) | ((what & CURL_POLL_OUT) ? ASYNC_WRITABLE : 0);
    if (i == w->n) {
        if (w->n == 64) return -1;
        w->fds[w->n++] = s;
    }
    w->evs[i] = ev;
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void) m;
    ((ta_curl_watch *) userp)->timeout_ms = timeout_ms;
    return 0;
}

/* Drives a multi handle to completion with socket actions, waiting on the
 * reactor in between. -1 if the coroutine was cancelled. */
static int drive(CURLM *m, ta_curl_watch *w)
{
    int running = 0;
    curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
    while (running) {
        long ms = w->timeout_ms;
        struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
        int r = ta_wait_fds(w->fds, w->evs, w->n, ms >= 0 ? &tv : NULL);
        if (r < 0) return -1;
        if (r == 0) {
            curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
            continue;
        }
        /* which one is ready is not known here: let libcurl look at each */
        int fds[64], n = w->n;
        memcpy(fds, w->fds, sizeof fds);
        for (int i = 0; i < n && running; i++) curl_multi_socket_action(m, fds[i], 0, &running);
    }
    return 0;
}

/* An easy handle's multi handle, kept from one of its transfers to the
 * next as libcurl's curl_easy_perform keeps one: the connections it leaves
 * open serve the handle's next transfer (keep-alive; a new multi handle
 * per call closed them at every curl_exec()). Made at the handle's first
 * transfer in a coroutine, freed with the handle (curl_easy_cleanup()).
 * The watch lives with it: libcurl tells it of sockets between calls. */
typedef struct {
    CURLM *m;
    ta_curl_watch w;
} ta_easy_multi;

/* CURL * -> ta_easy_multi * (PHP's curl handles stay on their thread) */
static __thread HashTable *tl_easy_multis;

static zend_ulong easy_key(CURL *easy) { return (zend_ulong) (uintptr_t) easy; }

static ta_easy_multi *easy_multi(CURL *easy)
{
    if (!tl_easy_multis) {
        tl_easy_multis = pemalloc(sizeof *tl_easy_multis, 1);
        zend_hash_init(tl_easy_multis, 8, NULL, NULL, 1);
    }
    ta_easy_multi *em = zend_hash_index_find_ptr(tl_easy_multis, easy_key(easy));
    if (em) return em;
    CURLM *m = curl_multi_init();
    if (!m) return NULL;
    em = pecalloc(1, sizeof *em, 1);
    em->m = m;
    em->w.timeout_ms = -1;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &em->w);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, &em->w);
    return zend_hash_index_add_new_ptr(tl_easy_multis, easy_key(easy), em);
}

/* For curl_multi_select(): the multi handle's own sockets, found with a
 * poll-free fdset (descriptors past FD_SETSIZE cannot be seen that way, so
 * then a short timeout stands in). 1 ready, 0 timeout, -1 cancelled. */
static int wait_multi(CURLM *m, long limit_ms)
{
    fd_set r, w, e;
    int maxfd = -1;
    FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&e);
    if (curl_multi_fdset(m, &r, &w, &e, &maxfd) != CURLM_OK) maxfd = -1;
    long ms = -1;
    curl_multi_timeout(m, &ms);
    if (limit_ms >= 0 && (ms < 0 || ms > limit_ms)) ms = limit_ms;
    if (maxfd < 0 && (ms < 0 || ms > 10)) ms = 10;
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
    ta_easy_multi *em = easy_multi(easy);
    if (!em || curl_multi_add_handle(em->m, easy) != CURLM_OK) return real_easy_perform()(easy);
    CURLcode result = CURLE_OK;
    if (drive(em->m, &em->w) < 0) result = CURLE_ABORTED_BY_CALLBACK;
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(em->m, &left)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy && result == CURLE_OK) result = msg->data.result;
    curl_multi_remove_handle(em->m, easy);
    return result;
}

/* The handle goes, then its multi handle with the connections it kept. */
TA_EXPORT void curl_easy_cleanup(CURL *easy)
{
    ta_easy_multi *em = tl_easy_multis && easy ? zend_hash_index_find_ptr(tl_easy_multis, easy_key(easy)) : NULL;
    real_easy_cleanup()(easy);
    if (!em) return;
    zend_hash_index_del(tl_easy_multis, easy_key(easy));
    curl_multi_cleanup(em->m);
    pefree(em, 1);
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
