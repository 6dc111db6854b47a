/* The handoff of one request between the Apache thread that owns it and the
 * PHP thread that runs it. The request half is written by Apache before
 * dispatch and read-only afterwards; the response half is appended by PHP
 * and taken by Apache, under the exchange's lock. Everything is plain heap
 * memory: PHP never touches APR, Apache never touches the Zend heap. */
#ifndef TA_EXCHANGE_H
#define TA_EXCHANGE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "notifier.h"

typedef struct ta_kv { char *name; char *value; } ta_kv;

typedef struct ta_chunk {
    struct ta_chunk *next;
    size_t len;
    char data[];
} ta_chunk;

typedef struct ta_request {
    char *method, *uri, *host, *protocol, *scheme;
    char *remote_addr, *local_addr, *server_name, *document_root;
    int remote_port, local_port;
    char *query, *path_info, *server_admin, *server_software, *remote_user, *auth_type;
    char *context_prefix, *context_document_root;
    int server_port;
    long long request_time_us;   /* when Apache read the request line */
    ta_kv *headers;
    size_t n_headers;
    ta_kv *env;                  /* Apache's environment for it (SetEnv, mod_rewrite E=, mod_ssl) */
    size_t n_env;
    char *body;
    size_t body_len;
    unsigned timeout_ms;         /* TrueAsyncRequestTimeout of its location; 0 none */
    unsigned max_wait_ms;        /* TrueAsyncMaxWaitTime; 0 none */
    uint64_t dispatched_us;      /* when it was queued (ta_clock.h) */
} ta_request;

/* An informational (1xx) response sent before the final head. */
typedef struct ta_interim {
    struct ta_interim *next;
    int status;
    ta_kv *headers;
    size_t n_headers;
} ta_interim;

/* What one ta_exchange_take() hands to Apache. */
typedef struct ta_take {
    ta_interim *interims;        /* owned by the taker; free with ta_interims_free */
    int status;                  /* >0 when the head is in this take */
    ta_kv *headers;              /* owned by the taker when status > 0 */
    size_t n_headers;
    ta_chunk *chunks;            /* owned by the taker; free with ta_chunks_free */
    size_t bytes;
    char *file;                  /* Response::sendFile(): the file that is the body; owned by the taker */
    int ended;                   /* the response is complete */
    int failed;                  /* PHP side died: before the head (status set: Apache answers it) or after it (drop the connection) */
} ta_take;

typedef struct ta_exchange ta_exchange;
typedef void (*ta_wake_php_fn)(ta_exchange *ex);

struct ta_exchange {
    /* Written by the Apache thread before dispatch; read-only after. */
    ta_request req;

    /* Set once at dispatch (worker_dispatch.c), before the PHP thread can
     * see the exchange; read-only after. */
    ta_wake_php_fn wake_php;     /* tells the PHP thread there is news */
    void *php_thread;            /* its mailbox */

    pthread_mutex_t lock;        /* guards the next three groups */
    int refs;                    /* atomic */

    /* PHP -> Apache, under lock: appended by the PHP thread, taken by the
     * Apache thread. */
    int status;
    ta_kv *resp_headers;
    size_t n_resp_headers;
    int head_ready, head_taken, ended, failed;
    ta_interim *interims, *interims_tail;
    char *file;                  /* the body is this file (sendFile) */
    ta_chunk *chunks, *chunks_tail;
    size_t pending;              /* bytes appended and not yet consumed */

    /* Apache -> PHP, under lock. */
    int aborted;                 /* client went away or Apache gave up */
    int php_waiting;             /* a coroutine waits for pending == 0 */
    ta_notifier *wake_apache;    /* NULL once Apache has left */

    /* The Apache thread's wake-up handshake, atomics (as the PHP thread's in
     * thread_mailbox.c): PHP sets apache_news when it tells Apache, and
     * wakes Apache only while apache_asleep (TA_APACHE_*: how it sleeps). */
    int apache_news;
    int apache_asleep;

    /* The PHP thread's list of Apache threads to tell (deferred signals):
     * the link is the PHP thread's only; the flag is under lock. */
    ta_exchange *signal_next;
    int signal_queued;

    /* The PHP thread's inbox (thread_mailbox.c): under the mailbox lock. */
    ta_exchange *inbox_next;
    int in_inbox;

    /* The PHP thread only: its request object and its in-flight list,
     * when it started and its deadline (TrueAsyncRequestTimeout). */
    void *php_ctx;
    ta_exchange *php_prev, *php_next;
    uint64_t php_deadline_ms;
    int php_timed_out;
    /* Written by the PHP thread before its first post, read by Apache
     * after the response (the lock orders them): when PHP started it. */
    uint64_t started_us;
    int wait_expired;            /* refused for TrueAsyncMaxWaitTime */
    /* Written by the PHP thread before it posts the head, read by Apache
     * after taking it: the status line PHP was given ("399 Choose Your Own
     * Adventure", without "HTTP/1.1 "), or empty. */
    char status_line[128];
};

/* Allocated with two references: the Apache side and the PHP side. */
ta_exchange *ta_exchange_new(void);
void ta_exchange_ref(ta_exchange *ex);
void ta_exchange_release(ta_exchange *ex);
char *ta_strdup(const char *s);

/* PHP side. Headers (if status > 0) are moved into the exchange. Data is
 * copied. Returns 0, or -1 if the client is gone (nothing was queued). */
int ta_exchange_post(ta_exchange *ex, int status, ta_kv *headers, size_t n_headers,
                     const char *data, size_t len, int end);
/* PHP side: the head and, as the whole body, the file at `path` (Apache
 * serves it); the response is complete. -1 if the client is gone. */
int ta_exchange_post_file(ta_exchange *ex, int status, ta_kv *headers, size_t n_headers, const char *path);
/* PHP side: queues a 1xx response (headers moved in) before the head.
 * -1 (nothing queued, headers freed) once the head was posted or the
 * client is gone. */
int ta_exchange_post_interim(ta_exchange *ex, int status, ta_kv *headers, size_t n_headers);
void ta_interims_free(ta_interim *i);
/* PHP side: while a list is set (per thread), posts queue their signal to
 * Apache there instead of sending it; ta_exchange_flush_signals() sends
 * them, once per exchange. A handler's write() and end() then wake the
 * Apache thread once, and a response complete by then gets Content-Length.
 * The list holds a reference on each exchange. NULL: signal at once. */
void ta_exchange_defer_signals(ta_exchange **list);
void ta_exchange_flush_signals(ta_exchange **list);
/* PHP side: the response can't be completed (fatal error, shutdown). Apache
 * answers `status` if the head has not gone out, else drops the connection. */
void ta_exchange_fail(ta_exchange *ex, int status);
/* PHP side: whether Apache has taken the response's head (it may be on
 * its way to the client). */
int ta_exchange_head_taken(ta_exchange *ex);
/* PHP side: bytes appended but not yet consumed by Apache. If any, marks the
 * PHP side as waiting, so ta_exchange_consumed() will call wake_php. */
size_t ta_exchange_pending_wait(ta_exchange *ex);
int ta_exchange_is_aborted(ta_exchange *ex);

/* Apache side. Takes what PHP posted (and its news first). */
void ta_exchange_take(ta_exchange *ex, ta_take *t);
/* Apache side: whether PHP told of something since the last take. */
int ta_exchange_has_news(ta_exchange *ex);
/* How the Apache thread sleeps: on its notifier (wake_apache), or on the
 * exchange itself (a futex: the cheapest sleep and wake-up, Linux only). */
enum { TA_APACHE_AWAKE = 0, TA_APACHE_NOTIFIER = 1, TA_APACHE_FUTEX = 2 };
#ifdef __linux__
#define TA_HAVE_FUTEX 1
#else
#define TA_HAVE_FUTEX 0
#endif
/* Apache side, about to block (`how`): 1 block (PHP will now wake it that
 * way), 0 news came meanwhile (take again). After blocking,
 * ta_exchange_apache_awake(). */
int ta_exchange_apache_sleep(ta_exchange *ex, int how);
/* Apache side, after ta_exchange_apache_sleep(ex, TA_APACHE_FUTEX): blocks
 * until PHP tells something or timeout_ms passes (-1: no limit). 1 if PHP
 * told something. */
int ta_exchange_apache_block(ta_exchange *ex, int timeout_ms);
void ta_exchange_apache_awake(ta_exchange *ex);
void ta_exchange_consumed(ta_exchange *ex, size_t bytes);
void ta_exchange_abort(ta_exchange *ex);
/* Apache leaves: stops PHP from signalling its notifier, drops its ref. */
void ta_exchange_detach_apache(ta_exchange *ex);

void ta_chunks_free(ta_chunk *c);
void ta_kv_free(ta_kv *kv, size_t n);

#endif
