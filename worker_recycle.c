#include "php_common.h"
#include "worker_recycle.h"

/* What a recovered fatal error leaves behind (the frames of the failed
 * coroutine, never freed) stays until the thread recycles; once that is a
 * quarter of memory_limit over what the booted worker used, the thread
 * recycles so later requests do not fail for lack of memory. */
static bool worth_recycling(size_t boot_usage)
{
    zend_long limit = PG(memory_limit);
    size_t now = zend_memory_usage(0);
    return limit > 0 && now > boot_usage && now - boot_usage > (size_t) limit / 4;
}

static const char *const recycle_why[TA_RECYCLE_CAUSES] = {
    [TA_RECYCLE_MAX_REQUESTS] = "after TrueAsyncMaxRequests requests",
    [TA_RECYCLE_MAX_MEMORY] = "as its memory in use is above TrueAsyncMaxMemory",
    [TA_RECYCLE_FATAL] = "after a fatal error",
    [TA_RECYCLE_SCRIPT_ENDED] = "as its script left its frankenphp_handle_request() loop",
    [TA_RECYCLE_WATCH] = "as a file its worker script included changed (TrueAsyncWatch)",
    [TA_RECYCLE_SHUTDOWN] = "as its script called Async\\graceful_shutdown()",
};

const char *ta_recycle_why(int cause) { return recycle_why[cause]; }

int ta_recycle_cause(ta_recycle_seen *seen, uint64_t fatals, uint64_t served, const ta_worker_config *cfg)
{
    if (fatals != seen->fatals) {
        seen->fatals = fatals;
        if (worth_recycling(seen->boot_usage)) return TA_RECYCLE_FATAL;
    }
    if (served == seen->served) return -1;
    seen->served = served;
    if (cfg->max_requests && served >= (uint64_t) cfg->max_requests) return TA_RECYCLE_MAX_REQUESTS;
    if (cfg->max_memory && (long long) zend_memory_usage(0) > cfg->max_memory) return TA_RECYCLE_MAX_MEMORY;
    return -1;
}
