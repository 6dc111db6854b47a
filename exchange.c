#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "exchange.h"

#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

char *ta_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

ta_exchange *ta_exchange_new(void)
{
    ta_exchange *ex = calloc(1, sizeof *ex);
    if (!ex) return NULL;
    if (pthread_mutex_init(&ex->lock, NULL)) { free(ex); return NULL; }
    ex->refs = 2;
    ex->status = 200;
    return ex;
}

void ta_kv_free(ta_kv *kv, size_t n)
{
    if (!kv) return;
    for (size_t i = 0; i < n; i++) { free(kv[i].name); free(kv[i].value); }
    free(kv);
}

void ta_chunks_free(ta_chunk *c)
{
    while (c) { ta_chunk *n = c->next; free(c); c = n; }
}

static void request_free(ta_request *r)
{
    free(r->method); free(r->uri); free(r->host); free(r->protocol); free(r->scheme);
    free(r->remote_addr); free(r->local_addr); free(r->server_name); free(r->document_root);
    free(r->query); free(r->path_info); free(r->server_admin); free(r->server_software);
    free(r->remote_user); free(r->auth_type); free(r->context_prefix); free(r->context_document_root);
    ta_kv_free(r->headers, r->n_headers);
    ta_kv_free(r->env, r->n_env);
    free(r->body);
}

/* An atomic count, not the lock: the two threads let go of an exchange
 * while the other may still use it, and must not queue on its lock for
 * that. The last release acquires what every other did before theirs. */
void ta_exchange_ref(ta_exchange *ex)
{
    __atomic_add_fetch(&ex->refs, 1, __ATOMIC_RELAXED);
}

void ta_exchange_release(ta_exchange *ex)
{
    if (__atomic_sub_fetch(&ex->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    request_free(&ex->req);
    ta_kv_free(ex->resp_headers, ex->n_resp_headers);
    ta_interims_free(ex->interims);
    free(ex->file);
    ta_chunks_free(ex->chunks);
    pthread_mutex_destroy(&ex->lock);
    free(ex);
}

/* A Dekker handshake, every access seq_cst: PHP stores apache_news, then
 * reads apache_asleep; Apache stores apache_asleep, then reads apache_news.
 * One of the two sees the other's store: Apache does not block, or PHP
 * wakes it (a notifier stays readable until drained, and a futex wait
 * does not start once apache_news is set, so a wake-up before Apache
 * blocks still counts). What was posted is under the lock, which the take
 * after either path acquires. Under the lock: says how to wake Apache once
 * the lock is let go (woken under it, the Apache thread would find the
 * lock still held, and sleep on it once more). */
static int signal_apache_locked(ta_exchange *ex)
{
    __atomic_store_n(&ex->apache_news, 1, __ATOMIC_SEQ_CST);
    return ex->wake_apache ? __atomic_load_n(&ex->apache_asleep, __ATOMIC_SEQ_CST) : TA_APACHE_AWAKE;
}

/* The notifier is its Apache thread's for good: one written after that
 * thread moved on only makes it look once more. A futex wake-up reaches
 * the exchange, which the caller's reference keeps. */
static void unlock_and_signal(ta_exchange *ex, int how)
{
    ta_notifier *n = how == TA_APACHE_NOTIFIER ? ex->wake_apache : NULL;
    pthread_mutex_unlock(&ex->lock);
    if (n) ta_notifier_signal(n);
#ifdef __linux__
    else if (how == TA_APACHE_FUTEX) syscall(SYS_futex, &ex->apache_news, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#endif
}

int ta_exchange_has_news(ta_exchange *ex)
{
    return __atomic_load_n(&ex->apache_news, __ATOMIC_SEQ_CST);
}

int ta_exchange_apache_sleep(ta_exchange *ex, int how)
{
    __atomic_store_n(&ex->apache_asleep, how, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&ex->apache_news, __ATOMIC_SEQ_CST)) return 1;
    __atomic_store_n(&ex->apache_asleep, TA_APACHE_AWAKE, __ATOMIC_SEQ_CST);
    return 0;
}

int ta_exchange_apache_block(ta_exchange *ex, int timeout_ms)
{
#ifdef __linux__
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long) (timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    /* returns at once if apache_news is no longer 0; EINTR, ETIMEDOUT: look */
    syscall(SYS_futex, &ex->apache_news, FUTEX_WAIT_PRIVATE, 0, tp, NULL, 0);
#else
    (void) timeout_ms;
#endif
    return ta_exchange_has_news(ex);
}

void ta_exchange_apache_awake(ta_exchange *ex)
{
    __atomic_store_n(&ex->apache_asleep, TA_APACHE_AWAKE, __ATOMIC_SEQ_CST);
}

static __thread ta_exchange **tl_deferred;

void ta_exchange_defer_signals(ta_exchange **list) { tl_deferred = list; }

/* Under lock: queue the signal on this thread's list, or (returned) send
 * it once unlocked. */
static int signal_apache_post_locked(ta_exchange *ex)
{
    if (!tl_deferred || !ex->wake_apache) return signal_apache_locked(ex);
    if (ex->signal_queued) return TA_APACHE_AWAKE;
    ex->signal_queued = 1;
    ta_exchange_ref(ex);
    ex->signal_next = *tl_deferred;
    *tl_deferred = ex;
    return TA_APACHE_AWAKE;
}

void ta_exchange_flush_signals(ta_exchange **list)
{
    ta_exchange *ex = *list;
    *list = NULL;
    while (ex) {
        ta_exchange *next = ex->signal_next;
        pthread_mutex_lock(&ex->lock);
        ex->signal_queued = 0;
        ex->signal_next = NULL;
        unlock_and_signal(ex, signal_apache_locked(ex));
        ta_exchange_release(ex);
        ex = next;
    }
}

int ta_exchange_post(ta_exchange *ex, int status, ta_kv *headers, size_t n_headers,
                     const char *data, size_t len, int end)
{
    ta_chunk *c = NULL;
    if (len) {
        c = malloc(sizeof *c + len);
        if (!c) return -1;
        c->next = NULL;
        c->len = len;
        memcpy(c->data, data, len);
    }
    pthread_mutex_lock(&ex->lock);
    if (ex->aborted || ex->ended || ex->failed) {
        pthread_mutex_unlock(&ex->lock);
        free(c);
        ta_kv_free(headers, n_headers);
        return -1;
    }
    if (status > 0 && !ex->head_ready) {
        ex->status = status;
        ex->resp_headers = headers;
        ex->n_resp_headers = n_headers;
        ex->head_ready = 1;
        headers = NULL;
    }
    if (c) {
        if (ex->chunks_tail) ex->chunks_tail->next = c; else ex->chunks = c;
        ex->chunks_tail = c;
        ex->pending += len;
    }
    if (end) ex->ended = 1;
    unlock_and_signal(ex, signal_apache_post_locked(ex));
    ta_kv_free(headers, n_headers);
    return 0;
}

int ta_exchange_post_file(ta_exchange *ex, int status, ta_kv *headers, size_t n_headers, const char *path)
{
    char *p = ta_strdup(path);
    pthread_mutex_lock(&ex->lock);
    if (!p || ex->aborted || ex->ended || ex->failed || ex->head_ready) {
        pthread_mutex_unlock(&ex->lock);
        free(p);
        ta_kv_free(headers, n_headers);
        return -1;
    }
    ex->status = status;
    ex->resp_headers = headers;
    ex->n_resp_headers = n_headers;
    ex->head_ready = 1;
    ex->file = p;
    ex->ended = 1;
    unlock_and_signal(ex, signal_apache_post_locked(ex));
    return 0;
}

void ta_interims_free(ta_interim *i)
{
    while (i) { ta_interim *n = i->next; ta_kv_free(i->headers, i->n_headers); free(i); i = n; }
}

int ta_exchange_post_interim(ta_exchange *ex, int status, ta_kv *headers, size_t n_headers)
{
    ta_interim *i = calloc(1, sizeof *i);
    pthread_mutex_lock(&ex->lock);
    if (!i || ex->aborted || ex->ended || ex->failed || ex->head_ready) {
        pthread_mutex_unlock(&ex->lock);
        free(i);
        ta_kv_free(headers, n_headers);
        return -1;
    }
    i->status = status;
    i->headers = headers;
    i->n_headers = n_headers;
    if (ex->interims_tail) ex->interims_tail->next = i; else ex->interims = i;
    ex->interims_tail = i;
    unlock_and_signal(ex, signal_apache_post_locked(ex));
    return 0;
}

void ta_exchange_fail(ta_exchange *ex, int status)
{
    int n = TA_APACHE_AWAKE;
    pthread_mutex_lock(&ex->lock);
    if (!ex->ended && !ex->failed) {
        if (!ex->head_ready) {
            ex->status = status;
            ex->head_ready = 1;
            ex->failed = 1;
        } else {
            /* a head PHP posted that Apache has not taken: Apache answers
             * the failure instead (never an error page titled "200 OK") */
            if (!ex->head_taken) ex->status = status;
            ex->failed = 1;
        }
        n = signal_apache_locked(ex);
    }
    unlock_and_signal(ex, n);
}

int ta_exchange_head_taken(ta_exchange *ex)
{
    pthread_mutex_lock(&ex->lock);
    int taken = ex->head_taken;
    pthread_mutex_unlock(&ex->lock);
    return taken;
}

size_t ta_exchange_pending_wait(ta_exchange *ex)
{
    pthread_mutex_lock(&ex->lock);
    size_t p = ex->aborted ? 0 : ex->pending;
    ex->php_waiting = p > 0;
    pthread_mutex_unlock(&ex->lock);
    return p;
}

int ta_exchange_is_aborted(ta_exchange *ex)
{
    pthread_mutex_lock(&ex->lock);
    int a = ex->aborted;
    pthread_mutex_unlock(&ex->lock);
    return a;
}

void ta_exchange_take(ta_exchange *ex, ta_take *t)
{
    memset(t, 0, sizeof *t);
    /* first: what PHP tells from now on is news for the next round */
    __atomic_store_n(&ex->apache_news, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&ex->lock);
    t->interims = ex->interims;
    ex->interims = ex->interims_tail = NULL;
    if (ex->head_ready && !ex->head_taken) {
        t->status = ex->status;
        t->headers = ex->resp_headers;
        t->n_headers = ex->n_resp_headers;
        ex->resp_headers = NULL;
        ex->n_resp_headers = 0;
        ex->head_taken = 1;
        t->file = ex->file;
        ex->file = NULL;
        /* A failure before the head went out: Apache answers that status
         * itself (its error page, ErrorDocument, Retry-After for a 503). */
        if (ex->failed) { t->ended = t->failed = 1; pthread_mutex_unlock(&ex->lock); return; }
    }
    t->chunks = ex->chunks;
    ex->chunks = ex->chunks_tail = NULL;
    for (ta_chunk *c = t->chunks; c; c = c->next) t->bytes += c->len;
    t->ended = ex->ended;
    t->failed = ex->failed;
    pthread_mutex_unlock(&ex->lock);
}

void ta_exchange_consumed(ta_exchange *ex, size_t bytes)
{
    ta_wake_php_fn wake = NULL;
    pthread_mutex_lock(&ex->lock);
    ex->pending = bytes > ex->pending ? 0 : ex->pending - bytes;
    if (ex->php_waiting && ex->pending == 0) {
        ex->php_waiting = 0;
        wake = ex->wake_php;
    }
    pthread_mutex_unlock(&ex->lock);
    /* wake_php only queues onto the PHP thread's inbox; the exchange is kept
     * alive by our own reference meanwhile. */
    if (wake) wake(ex);
}

void ta_exchange_abort(ta_exchange *ex)
{
    ta_wake_php_fn wake = NULL;
    pthread_mutex_lock(&ex->lock);
    if (!ex->aborted && !(ex->ended && ex->chunks == NULL)) {
        ex->aborted = 1;
        wake = ex->wake_php;
    }
    ex->aborted = 1;
    pthread_mutex_unlock(&ex->lock);
    if (wake) wake(ex);
}

void ta_exchange_detach_apache(ta_exchange *ex)
{
    pthread_mutex_lock(&ex->lock);
    ex->wake_apache = NULL;
    pthread_mutex_unlock(&ex->lock);
    ta_exchange_release(ex);
}
