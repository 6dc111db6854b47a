/* What one PHP thread publishes for the watchdog (watchdog.h) and the
 * flags it gets back: part of its mailbox. Atomics only; no Zend, no httpd. */
#ifndef TA_THREAD_WATCH_H
#define TA_THREAD_WATCH_H

#include <stdint.h>

#define TA_WATCH_TICK_MS 5

enum { TA_WATCH_TICK = 1, TA_WATCH_SLOW = 2, TA_WATCH_DEADLINE = 4 };

/* One PHP thread's side of it, inside its mailbox. */
typedef struct ta_watch {
    /* PHP thread writes, watchdog reads (atomics) */
    uint32_t run_seq;           /* bumped when a coroutine run begins */
    int busy;                   /* a coroutine runs now */
    uint64_t deadline_ms;       /* earliest deadline of its requests; 0 none */
    /* watchdog writes, PHP thread takes (atomics) */
    int flags;                  /* TA_WATCH_* */
    uint32_t slow_seq;          /* the run TA_WATCH_SLOW is about */
    uint32_t slow_ms;           /* how long it had run */
    /* set before the watchdog starts */
    uint32_t slowlog_ms;        /* TrueAsyncSlowlogTimeout; 0 off */
    /* the watchdog's own */
    uint32_t seen_seq, logged_seq;
    uint64_t seen_at;
} ta_watch;

/* PHP thread: a coroutine run begins / ends. */
static inline void ta_watch_run_begin(ta_watch *w)
{
    __atomic_store_n(&w->run_seq, w->run_seq + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&w->busy, 1, __ATOMIC_RELEASE);
}
static inline void ta_watch_run_end(ta_watch *w) { __atomic_store_n(&w->busy, 0, __ATOMIC_RELAXED); }
/* PHP thread: takes the flags raised since it last looked. */
static inline int ta_watch_take(ta_watch *w) { return __atomic_exchange_n(&w->flags, 0, __ATOMIC_ACQ_REL); }
static inline int ta_watch_peek(ta_watch *w) { return __atomic_load_n(&w->flags, __ATOMIC_ACQUIRE); }
static inline void ta_watch_set_deadline(ta_watch *w, uint64_t ms) { __atomic_store_n(&w->deadline_ms, ms, __ATOMIC_RELEASE); }

#endif
