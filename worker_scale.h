/* TrueAsyncThreads MIN MAX: when a worker starts one more PHP thread, and
 * when one above MIN retires. Pure decisions over what the watchdog saw on
 * one tick; the worker pool acts on them. No Zend, no httpd: unit-tested.
 *
 * The signal to grow: requests have waited continuously for at least
 * TA_SCALE_PRESSURE_MS, i.e. on every tick of that span some ready thread
 * had requests queued that it had not taken (it is at its
 * TrueAsyncMaxConcurrency limit, or its CPU is busy), or Apache refused one
 * with 503 because every queue was full; and no ready thread holds nothing
 * (dispatch would give it the next request). One boot at a time: nothing
 * starts while a thread of the worker boots. */
#ifndef TA_WORKER_SCALE_H
#define TA_WORKER_SCALE_H

#include <stdint.h>

/* How long requests must have waited, continuously, before a thread starts. */
#define TA_SCALE_PRESSURE_MS 10
/* After a thread above MIN failed to boot, no other starts for this long. */
#define TA_SCALE_FAIL_PAUSE_MS 5000

/* Why a PHP thread started, and why one stopped (the status counters). */
enum { TA_START_MIN, TA_START_LOAD, TA_START_CAUSES };
enum { TA_STOP_IDLE, TA_STOP_BOOT_FAILED, TA_STOP_CAUSES };

typedef struct ta_scale_view {
    int min, max;
    int live;                   /* threads started and not yet exited (retiring ones too) */
    int booting;                /* of them, booting their script */
    int idle_ready;             /* ready, not retiring, holding no request */
    uint64_t pressure_ms;       /* how long requests have waited continuously (0: none now) */
    int refused;                /* Apache answered 503 since the last tick (queues full, or waited too long) */
    uint64_t since_fail_ms;     /* since a thread above MIN last failed to boot (UINT64_MAX: never) */
} ta_scale_view;

/* Whether to start one more thread now. */
int ta_scale_grow(const ta_scale_view *v);
/* Whether a thread that served nothing for idle_ms retires, with `live`
 * threads of which `retiring` already retire. idle_timeout_ms 0: never. */
int ta_scale_retire(int live, int retiring, int min, uint64_t idle_ms, uint64_t idle_timeout_ms);
/* Tracks the pressure across ticks: *since is when it began (0: none).
 * Returns how long it has lasted at `now` (0 when there is none now). */
uint64_t ta_scale_pressure(uint64_t *since, int pressed, uint64_t now);

#endif
