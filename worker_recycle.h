/* When a PHP thread should boot its worker script afresh, judged from the
 * counts the thread keeps, and how the log says why. */
#ifndef TA_WORKER_RECYCLE_H
#define TA_WORKER_RECYCLE_H

#include "worker_config.h"
#include "worker_stats.h"

#include <stddef.h>
#include <stdint.h>

/* What the thread had seen at its last check, and its PHP memory in use
 * right after its script booted. */
typedef struct ta_recycle_seen {
    uint64_t fatals, served;
    size_t boot_usage;
} ta_recycle_seen;

/* TA_RECYCLE_* now, or -1: after a costly fatal error, after
 * TrueAsyncMaxRequests requests, or when a request ended with more PHP
 * memory in use than TrueAsyncMaxMemory. */
int ta_recycle_cause(ta_recycle_seen *seen, uint64_t fatals, uint64_t served, const ta_worker_config *cfg);

/* The cause as the log line says it. */
const char *ta_recycle_why(int cause);

#endif
