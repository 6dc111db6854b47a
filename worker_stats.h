/* The figures of the status page, in shared memory the Apache parent
 * creates: one region per scoreboard slot (child), holding per worker its
 * counters and duration histogram and per PHP thread its state, so any
 * child can show every child. Counters are relaxed atomics: a reader may
 * see one a moment old, never torn. No Zend, no httpd. */
#ifndef TA_WORKER_STATS_H
#define TA_WORKER_STATS_H

#include <stddef.h>
#include <stdint.h>
#include "worker_config.h"
#include "worker_scale.h"

/* Why a PHP thread booted its script afresh. */
enum { TA_RECYCLE_MAX_REQUESTS, TA_RECYCLE_MAX_MEMORY, TA_RECYCLE_FATAL, TA_RECYCLE_SCRIPT_ENDED,
       TA_RECYCLE_WATCH, TA_RECYCLE_SHUTDOWN, TA_RECYCLE_CAUSES };
/* Why Apache answered 503 itself. */
enum { TA_REJECT_QUEUES_FULL, TA_REJECT_WAIT_TIME, TA_REJECT_UNAVAILABLE, TA_REJECT_CAUSES };

/* Upper bounds (ms) of the request-duration buckets; one more is +Inf. */
#define TA_HIST_BOUNDS_MS { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 }
#define TA_HIST_BUCKETS 12
#define TA_LAST_ERROR_LEN 240

typedef struct ta_php_thread_stats {
    int64_t state;              /* TA_PHP_THREAD_* (thread_mailbox.h); the watchdog copies it */
    uint64_t served, boots, boot_failures, timeouts, slow;     /* PHP thread */
    uint64_t recycles[TA_RECYCLE_CAUSES];                       /* PHP thread */
    uint64_t coroutines, memory;                                /* PHP thread: gauges */
    uint64_t concurrency;       /* PHP thread: TrueAsyncMaxConcurrency in force (0: no limit) */
    uint64_t inflight, queued;                                  /* watchdog: gauges */
    char last_error[TA_LAST_ERROR_LEN];                         /* PHP thread: last boot error */
} ta_php_thread_stats;

typedef struct ta_worker_stats {
    uint64_t rejected[TA_REJECT_CAUSES];                /* Apache threads */
    uint64_t hist[TA_HIST_BUCKETS];                     /* Apache threads, not cumulative */
    uint64_t hist_sum_us, hist_count;
    uint64_t thread_starts[TA_START_CAUSES];            /* watchdog: PHP threads started, by cause */
    uint64_t thread_stops[TA_STOP_CAUSES];              /* watchdog: PHP threads that left, by cause */
    ta_php_thread_stats threads[];                          /* cfg->max_threads of them (idle slots too) */
} ta_worker_stats;

typedef struct ta_child_stats {
    int64_t pid;                /* the child owning the slot; 0: never used */
    int64_t slot;
    uint64_t started;           /* unix time the child started */
    unsigned char workers[];    /* the ta_worker_stats, at ta_stats_worker() */
} ta_child_stats;

/* The shared memory of one generation of children: `slots` regions of
 * `slot_size` bytes at `base` (made by the parent); `mine` is this
 * child's slot, -1 if it has none. */
typedef struct ta_stats_region {
    void *base;
    size_t slot_size;
    int slots, mine;
} ta_stats_region;

/* The scoreboard's pid for a slot (0: none); the Apache glue's. */
typedef long (*ta_slot_pid_fn)(int slot);

/* In a new child: finds its slot (the parent writes the pid there just
 * after the fork, so it waits for it up to wait_ms), clears the region and
 * takes it over. NULL if no slot has our pid. */
ta_child_stats *ta_stats_claim(ta_stats_region *rg, ta_slot_pid_fn slot_pid, unsigned wait_ms);
/* The children whose figures are current: the pid in their region is the
 * scoreboard's for the slot, and alive (ours always). Returns how many it
 * put in out (room for rg->slots). */
int ta_stats_live(const ta_stats_region *rg, ta_slot_pid_fn slot_pid, ta_child_stats **out);

/* Bytes one child's region takes for these workers (a multiple of 64). */
size_t ta_stats_slot_size(const ta_worker_config *cfg, int n);
ta_child_stats *ta_stats_slot(void *base, size_t slot_size, int slot);
ta_worker_stats *ta_stats_worker(ta_child_stats *c, const ta_worker_config *cfg, int w);

static inline void ta_stat_add(uint64_t *c, uint64_t n) { __atomic_fetch_add(c, n, __ATOMIC_RELAXED); }
static inline void ta_stat_set(uint64_t *c, uint64_t v) { __atomic_store_n(c, v, __ATOMIC_RELAXED); }
static inline uint64_t ta_stat_get(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }
/* One request's duration into the worker's histogram (any thread). */
void ta_stats_observe(ta_worker_stats *ws, uint64_t us);
/* The PHP thread's last boot error (NUL-terminated, cut to fit). */
void ta_stats_set_error(ta_php_thread_stats *ts, const char *msg);

#endif
