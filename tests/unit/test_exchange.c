/* Unit tests for exchange.c: the request/response handoff between the
 * Apache thread that owns a request and the PHP thread that runs it. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../exchange.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* wake_php stand-in: counts calls and signals the "PHP thread". */
static ta_notifier php_wake;
static int wake_calls;
static ta_exchange *wake_last;

static void fake_wake_php(ta_exchange *ex)
{
    __atomic_add_fetch(&wake_calls, 1, __ATOMIC_RELAXED);
    wake_last = ex;
    ta_notifier_signal(&php_wake);
}

static ta_kv *headers1(const char *name, const char *value)
{
    ta_kv *kv = malloc(sizeof *kv);
    kv->name = ta_strdup(name);
    kv->value = ta_strdup(value);
    return kv;
}

static size_t chunks_copy(const ta_chunk *c, char *buf, size_t cap, int *count)
{
    size_t n = 0;
    *count = 0;
    for (; c; c = c->next, ++*count) {
        if (n + c->len <= cap) memcpy(buf + n, c->data, c->len);
        n += c->len;
    }
    return n;
}

static void take_free(ta_take *t)
{
    if (t->status > 0) ta_kv_free(t->headers, t->n_headers);
    ta_chunks_free(t->chunks);
}

/* A fresh exchange as the worker pool sets it up at dispatch. */
static ta_exchange *dispatched(ta_notifier *apache)
{
    ta_exchange *ex = ta_exchange_new();
    ex->req.method = ta_strdup("POST");
    ex->req.uri = ta_strdup("/form?x=1");
    ex->req.host = ta_strdup("example.test");
    ex->req.protocol = ta_strdup("HTTP/1.1");
    ex->req.scheme = ta_strdup("http");
    ex->req.remote_addr = ta_strdup("127.0.0.1");
    ex->req.headers = headers1("Content-Type", "text/plain");
    ex->req.n_headers = 1;
    ex->req.body = ta_strdup("a=b");
    ex->req.body_len = 3;
    ex->wake_apache = apache;
    ex->wake_php = fake_wake_php;
    return ex;
}

/* Both sides let go, as Apache and PHP do at the end of a request. */
static void finish(ta_exchange *ex)
{
    ta_exchange_detach_apache(ex);
    ta_exchange_release(ex);
}

static void test_helpers(void)
{
    tap_ok(ta_strdup(NULL) == NULL, "ta_strdup(NULL) is NULL");
    char *s = ta_strdup("héllo");
    tap_ok(s && strcmp(s, "héllo") == 0, "ta_strdup copies the string");
    free(s);
    ta_kv_free(NULL, 3);
    ta_chunks_free(NULL);
    tap_ok(1, "ta_kv_free / ta_chunks_free accept NULL");

    /* Refcount: new holds two, ref adds one; memory lives until the last. */
    ta_exchange *ex = ta_exchange_new();
    tap_ok(ex != NULL, "ta_exchange_new allocates");
    ex->req.method = ta_strdup("GET");
    ex->req.headers = headers1("Host", "x");
    ex->req.n_headers = 1;
    ta_exchange_ref(ex);
    ta_exchange_release(ex);
    ta_exchange_release(ex);
    /* ASan would abort here on a use-after-free if it had been freed early. */
    tap_ok(ta_exchange_is_aborted(ex) == 0, "exchange survives until its last reference");
    ta_exchange_release(ex);   /* the leak checker verifies the request half is freed */
    tap_ok(1, "last release frees the exchange and its request half");
}

static void test_response_flow(void)
{
    ta_notifier apache;
    ta_take t;
    char buf[64];
    int nchunks;

    ta_notifier_init(&apache, TA_NOTIFIER_EVENTFD);
    ta_exchange *ex = dispatched(&apache);

    ta_exchange_take(ex, &t);
    tap_ok(t.status == 0 && t.chunks == NULL && t.bytes == 0 && !t.ended && !t.failed,
           "take before PHP posted anything is empty");

    tap_is_int(ta_exchange_apache_sleep(ex, TA_APACHE_NOTIFIER), 1, "nothing posted yet: Apache may block");
    tap_is_int(ta_exchange_post(ex, 201, headers1("X-A", "1"), 1, "abc", 3, 0), 0,
               "post head + data returns 0");
    tap_is_int(ta_notifier_drain(&apache), 1, "a post while Apache blocks signals its notifier");
    ta_exchange_apache_awake(ex);
    ta_exchange_take(ex, &t);
    size_t n = chunks_copy(t.chunks, buf, sizeof buf, &nchunks);
    tap_ok(t.status == 201 && t.n_headers == 1 && t.headers && strcmp(t.headers[0].name, "X-A") == 0 &&
           strcmp(t.headers[0].value, "1") == 0, "take returns the status and moved headers");
    tap_ok(n == 3 && t.bytes == 3 && memcmp(buf, "abc", 3) == 0 && !t.ended,
           "take returns the data, bytes counted, not ended");
    take_free(&t);

    ta_exchange_take(ex, &t);
    tap_ok(t.status == 0 && t.chunks == NULL && t.bytes == 0, "the head is handed over only once");

    /* Data is copied: the caller's buffer may change right after post. */
    char src[4] = "def";
    ta_exchange_post(ex, 0, NULL, 0, src, 3, 0);
    tap_is_int(ta_notifier_drain(&apache), 0, "a post while Apache is awake does not write its notifier");
    tap_ok(ta_exchange_has_news(ex) && ta_exchange_apache_sleep(ex, TA_APACHE_NOTIFIER) == 0,
           "... Apache sees the news and does not block");
    src[0] = 'X';
    ta_exchange_post(ex, 0, NULL, 0, "", 0, 0);
    ta_exchange_post(ex, 0, NULL, 0, "gh", 2, 0);
    /* A second head is ignored; its headers are freed (leak checker). */
    tap_is_int(ta_exchange_post(ex, 500, headers1("X-Late", "1"), 1, "i", 1, 0), 0,
               "post with a late head still queues its data");
    ta_exchange_take(ex, &t);
    n = chunks_copy(t.chunks, buf, sizeof buf, &nchunks);
    tap_ok(t.status == 0, "a late head does not replace the one already sent");
    tap_ok(n == 6 && t.bytes == 6 && memcmp(buf, "defghi", 6) == 0,
           "several posts arrive in order, data copied at post time (%d chunks)", nchunks);
    take_free(&t);

    /* Backpressure: PHP learns what is unconsumed and is woken at zero. */
    wake_calls = 0;
    tap_is_int(ta_exchange_pending_wait(ex), 9, "pending counts all bytes not yet consumed");
    ta_exchange_consumed(ex, 4);
    tap_is_int(wake_calls, 0, "partial consumption does not wake PHP");
    tap_is_int(ta_exchange_pending_wait(ex), 5, "pending drops as Apache consumes");
    ta_exchange_consumed(ex, 5);
    tap_ok(wake_calls == 1 && wake_last == ex, "consuming the rest wakes the waiting PHP side once");
    tap_is_int(ta_exchange_pending_wait(ex), 0, "nothing pending after full consumption");
    ta_exchange_post(ex, 0, NULL, 0, "jk", 2, 0);
    ta_exchange_take(ex, &t);
    ta_exchange_consumed(ex, t.bytes);
    take_free(&t);
    tap_is_int(wake_calls, 1, "no wake-up when PHP was not waiting");
    ta_exchange_consumed(ex, 100);
    tap_is_int(ta_exchange_pending_wait(ex), 0, "over-consumption clamps pending at 0");

    /* End. */
    ta_notifier_drain(&apache);
    tap_is_int(ta_exchange_post(ex, 0, NULL, 0, "end", 3, 1), 0, "final post with end returns 0");
    ta_exchange_take(ex, &t);
    tap_ok(t.ended && t.bytes == 3 && !t.failed, "take reports the end together with the last data");
    take_free(&t);
    tap_is_int(ta_exchange_post(ex, 0, NULL, 0, "more", 4, 0), -1, "post after end returns -1");
    tap_is_int(ta_exchange_post(ex, 200, headers1("X", "y"), 1, NULL, 0, 1), -1,
               "post with headers after end returns -1 (headers freed)");
    ta_exchange_fail(ex, 500);
    ta_exchange_take(ex, &t);
    tap_ok(t.ended && !t.failed && t.status == 0, "fail after end changes nothing");
    take_free(&t);
    finish(ex);
    ta_notifier_destroy(&apache);
}

static void test_abort_fail_detach(void)
{
    ta_notifier apache;
    ta_take t;
    ta_notifier_init(&apache, TA_NOTIFIER_PIPE);

    /* Client gone mid-response. */
    ta_exchange *ex = dispatched(&apache);
    ta_exchange_post(ex, 200, NULL, 0, "partial", 7, 0);
    wake_calls = 0;
    ta_exchange_abort(ex);
    tap_ok(ta_exchange_is_aborted(ex) == 1, "abort marks the exchange aborted");
    tap_is_int(wake_calls, 1, "abort wakes the PHP side");
    tap_is_int(ta_exchange_post(ex, 0, NULL, 0, "x", 1, 0), -1, "post after abort returns -1");
    tap_is_int(ta_exchange_pending_wait(ex), 0, "an aborted exchange has nothing to wait for");
    ta_exchange_take(ex, &t);
    take_free(&t);
    finish(ex);

    /* PHP dies before sending the head: Apache answers the status itself. */
    ex = dispatched(&apache);
    ta_notifier_drain(&apache);
    ta_exchange_apache_sleep(ex, TA_APACHE_NOTIFIER);
    ta_exchange_fail(ex, 503);
    tap_is_int(ta_notifier_drain(&apache), 1, "fail signals Apache");
    ta_exchange_apache_awake(ex);
    ta_exchange_take(ex, &t);
    tap_ok(t.status == 503 && t.ended && t.failed,
           "fail before the head: take gives that status, ended and failed (Apache answers it; status %d)", t.status);
    take_free(&t);
    finish(ex);

    /* PHP dies after the head went out: Apache must drop the connection. */
    ex = dispatched(&apache);
    ta_exchange_post(ex, 200, headers1("A", "b"), 1, "x", 1, 0);
    ta_exchange_take(ex, &t);
    take_free(&t);
    ta_exchange_fail(ex, 500);
    ta_exchange_take(ex, &t);
    tap_ok(t.failed && t.status == 0, "fail after the head: take reports failed");
    take_free(&t);
    finish(ex);

    /* Apache left first: PHP may still post (no notifier touched) and release. */
    ex = dispatched(&apache);
    ta_notifier_drain(&apache);
    ta_exchange_apache_sleep(ex, TA_APACHE_NOTIFIER);
    ta_exchange_detach_apache(ex);
    int rc = ta_exchange_post(ex, 200, headers1("A", "b"), 1, "late", 4, 1);
    tap_ok(rc == 0 || rc == -1, "post after Apache detached returns normally (%d)", rc);
    tap_is_int(ta_notifier_drain(&apache), 0, "detached Apache notifier is not signalled");
    ta_exchange_release(ex);   /* frees queued chunks; the leak checker verifies */
    tap_ok(1, "PHP's release after detach frees everything");

    ta_notifier_destroy(&apache);
}

/* Streaming across threads with backpressure: a PHP thread writes a large
 * response in uneven chunks, pausing while too much is unconsumed; the
 * Apache thread takes, checks, consumes, and blocks on its notifier (the
 * handshake of relay()) only when no news came. A lost wake-up shows as a
 * one-second stall. */
#define STREAM_BYTES (8u << 20)
#define HIGH_WATER (256u << 10)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 13)); }

static void *php_side(void *arg)
{
    ta_exchange *ex = arg;
    static char buf[70000];
    size_t sent = 0, k = 0;
    int rc = 0;
    while (sent < STREAM_BYTES && rc == 0) {
        size_t len = 1 + (k++ * 7919) % sizeof buf;
        if (len > STREAM_BYTES - sent) len = STREAM_BYTES - sent;
        for (size_t i = 0; i < len; i++) buf[i] = (char)pattern(sent + i);
        sent += len;
        rc = ta_exchange_post(ex, sent == len ? 200 : 0, NULL, 0, buf, len,
                              sent == STREAM_BYTES);
        /* Pause like a coroutine would until Apache caught up. */
        if (ta_exchange_pending_wait(ex) > HIGH_WATER)
            while (ta_exchange_pending_wait(ex) > 0)
                ta_notifier_wait(&php_wake, 5000, -1, 0, NULL);
    }
    ta_exchange_release(ex);
    return (void *)(intptr_t)rc;
}

static void test_stream_threads(int how)
{
    ta_notifier apache;
    ta_notifier_init(&apache, TA_NOTIFIER_EVENTFD);
    ta_exchange *ex = dispatched(&apache);
    wake_calls = 0;
    pthread_t th;
    pthread_create(&th, NULL, php_side, ex);

    size_t got = 0, max_batch = 0;
    int bad = 0, status = 0, ended = 0, stalls = 0;
    while (!ended && stalls < 10) {
        ta_take t;
        ta_exchange_take(ex, &t);
        if (t.status > 0) status = t.status;
        for (ta_chunk *c = t.chunks; c; c = c->next) {
            for (size_t i = 0; i < c->len; i++)
                bad += (unsigned char)c->data[i] != pattern(got + i);
            got += c->len;
        }
        if (t.bytes > max_batch) max_batch = t.bytes;
        ended = t.ended;
        take_free(&t);
        ta_exchange_consumed(ex, t.bytes);
        if (ended || !ta_exchange_apache_sleep(ex, how)) continue;
        int woken = how == TA_APACHE_FUTEX ? ta_exchange_apache_block(ex, 1000)
                                           : ta_notifier_wait(&apache, 1000, -1, 0, NULL);
        if (!woken) stalls++;
        ta_exchange_apache_awake(ex);
    }
    void *rc;
    pthread_join(th, &rc);
    ta_exchange_detach_apache(ex);

    const char *way = how == TA_APACHE_FUTEX ? "futex" : "notifier";
    tap_ok(ended && stalls == 0, "stream (%s): Apache saw the end, no wake-up lost (%d one-second stalls)", way, stalls);
    tap_ok(got == STREAM_BYTES && bad == 0 && status == 200,
           "stream (%s): %zu bytes arrived intact and in order (%d bad)", way, got, bad);
    tap_ok(max_batch <= HIGH_WATER + 70000,
           "stream (%s): backpressure bounded the unconsumed bytes (max take %zu)", way, max_batch);
    tap_ok((intptr_t)rc == 0 && wake_calls > 0, "stream (%s): PHP side was woken by consumption %d times",
           way, wake_calls);
    ta_notifier_destroy(&apache);
}

/* Deferred signals: posts made while a list is set wake Apache once, at the
 * flush, and the list's reference keeps an exchange alive until then. */
static void test_deferred_signals(void)
{
    ta_notifier apache;
    ta_take t;
    ta_notifier_init(&apache, TA_NOTIFIER_EVENTFD);
    ta_exchange *ex = dispatched(&apache);
    ta_exchange *list = NULL;

    ta_exchange_defer_signals(&list);
    ta_exchange_post(ex, 200, headers1("X-A", "1"), 1, "ok", 2, 0);
    ta_exchange_post(ex, 0, NULL, 0, NULL, 0, 1);
    tap_is_int(ta_notifier_drain(&apache), 0, "deferred: posts do not signal Apache");
    tap_ok(list == ex && ex->refs == 3, "the exchange is listed once, with a reference (refs %d)", ex->refs);
    ta_exchange_release(ex);                 /* the PHP side lets go before the flush */
    ta_exchange_apache_sleep(ex, TA_APACHE_NOTIFIER);
    ta_exchange_flush_signals(&list);
    tap_is_int(ta_notifier_drain(&apache), 1, "the flush signals Apache once for both posts");
    tap_ok(list == NULL, "and empties the list");
    ta_exchange_take(ex, &t);
    tap_ok(t.status == 200 && t.bytes == 2 && t.ended, "Apache then takes the head, the data and the end at once");
    take_free(&t);

    ta_exchange *gone = dispatched(&apache);
    ta_exchange_post(gone, 200, NULL, 0, "x", 1, 0);
    ta_exchange_detach_apache(gone);         /* Apache left meanwhile */
    ta_exchange_release(gone);
    ta_exchange_flush_signals(&list);        /* frees it: the leak checker sees */
    tap_is_int(ta_notifier_drain(&apache), 0, "no signal for an exchange Apache has left");

    ta_exchange_defer_signals(NULL);
    ta_exchange *now = dispatched(&apache);
    ta_exchange_apache_sleep(now, TA_APACHE_NOTIFIER);
    ta_exchange_post(now, 200, NULL, 0, "y", 1, 1);
    tap_ok(ta_notifier_drain(&apache) == 1 && list == NULL, "with no list set, a post signals at once again");
    ta_exchange_take(now, &t);
    take_free(&t);
    finish(now);
    ta_exchange_detach_apache(ex);
    ta_notifier_destroy(&apache);
}

int main(void)
{
    tap_plan(6 + 24 + 10 + 4 + 4 + 7);   /* helpers, response, abort/fail/detach, stream, deferred */
    ta_notifier_init(&php_wake, TA_NOTIFIER_EVENTFD);
    test_helpers();
    test_response_flow();
    test_abort_fail_detach();
    test_stream_threads(TA_APACHE_NOTIFIER);
    if (TA_HAVE_FUTEX) test_stream_threads(TA_APACHE_FUTEX);
    else for (int i = 0; i < 4; i++) tap_ok(1, "# skip no futex here");
    test_deferred_signals();
    ta_notifier_destroy(&php_wake);
    return tap_done();
}
