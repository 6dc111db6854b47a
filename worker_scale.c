#include "worker_scale.h"

int ta_scale_grow(const ta_scale_view *v)
{
    if (v->live >= v->max || v->booting > 0 || v->idle_ready > 0) return 0;
    if (v->since_fail_ms < TA_SCALE_FAIL_PAUSE_MS) return 0;
    /* fewer than MIN (one failed to start): back up to MIN without waiting */
    if (v->live < v->min) return 1;
    return v->refused || v->pressure_ms >= TA_SCALE_PRESSURE_MS;
}

int ta_scale_retire(int live, int retiring, int min, uint64_t idle_ms, uint64_t idle_timeout_ms)
{
    return idle_timeout_ms && live - retiring > min && idle_ms >= idle_timeout_ms;
}

uint64_t ta_scale_pressure(uint64_t *since, int pressed, uint64_t now)
{
    if (!pressed) {
        *since = 0;
        return 0;
    }
    if (!*since) *since = now ? now : 1;
    return now - *since;
}
