/* What one worker is: its script, thread count, queue size and php.ini
 * settings, as the directives gave them; and the directives' defaults. */
#ifndef TA_WORKER_CONFIG_H
#define TA_WORKER_CONFIG_H

/* Defaults of TrueAsyncThreads, TrueAsyncBufferSize, TrueAsyncRetryAfter. */
#define TA_DEFAULT_THREADS 2
#define TA_DEFAULT_BUFFER_SIZE 20
#define TA_DEFAULT_RETRY_AFTER 1
/* Default of TrueAsyncThreadIdleTimeout, seconds: long enough that the
 * threads of a burst outlive a short lull (a reboot costs the script's
 * boot), short enough that memory comes back within a minute of a peak. */
#define TA_DEFAULT_IDLE_TIMEOUT 10
/* The most TrueAsyncMaxConcurrency takes. */
#define TA_MAX_CONCURRENCY 1000000
/* Default of TrueAsyncMaxConsecutiveFailures. */
#define TA_DEFAULT_MAX_FAILURES 6

typedef struct ta_ini { const char *name; const char *value; } ta_ini;

typedef struct ta_worker_config {
    const char *script;
    int threads;                /* TrueAsyncThreads MIN: started with the child */
    int max_threads;            /* TrueAsyncThreads MAX (>= threads): started under load */
    unsigned idle_timeout;      /* TrueAsyncThreadIdleTimeout, seconds: a thread above MIN retires; 0 never */
    int buffer_size;
    const ta_ini *ini;
    int n_ini;
    long max_requests;          /* TrueAsyncMaxRequests: recycle after this many; 0 never */
    long long max_memory;       /* TrueAsyncMaxMemory: recycle above this many bytes; 0 off */
    const char *const *sendfile_dirs;   /* TrueAsyncSendFilePath: real paths, no trailing '/' */
    int n_sendfile_dirs;
    unsigned slowlog_ms;        /* TrueAsyncSlowlogTimeout; 0 off */
    int max_failures;           /* TrueAsyncMaxConsecutiveFailures: boots failed in a row before the error */
    int watch;                  /* TrueAsyncWatch: recycle when an included file changes */
    int max_concurrency;        /* TrueAsyncMaxConcurrency: requests a thread runs at once; 0 auto
                                 * (1 for a frankenphp_handle_request() loop, else no limit) */
    /* for the status page only: the first server's values (they are per
     * server or per directory, enforced by the Apache glue) */
    unsigned max_wait_ms;       /* TrueAsyncMaxWaitTime */
    unsigned request_timeout;   /* TrueAsyncRequestTimeout, seconds */
    int retry_after;
} ta_worker_config;

/* The PHP thread slots of a worker: MAX (MIN when MAX was left 0). */
static inline int ta_cfg_slots(const ta_worker_config *c) { return c->max_threads > c->threads ? c->max_threads : c->threads; }

/* A directive's value: an integer in [lo, hi]; a size in bytes, or with K,
 * M or G (php.ini's form). 0, or -1 when it is not one. */
int ta_parse_int(const char *arg, long lo, long hi, int *out);
int ta_parse_size(const char *arg, long long *out);

#endif
