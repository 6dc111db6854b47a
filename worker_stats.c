#include "worker_stats.h"

#include <string.h>

static size_t round64(size_t n) { return (n + 63) & ~(size_t) 63; }

static size_t worker_size(const ta_worker_config *c)
{
    return round64(sizeof(ta_worker_stats) + (size_t) c->threads * sizeof(ta_thread_stats));
}

size_t ta_stats_slot_size(const ta_worker_config *cfg, int n)
{
    size_t sz = round64(sizeof(ta_child_stats));
    for (int i = 0; i < n; i++) sz += worker_size(&cfg[i]);
    return sz;
}

ta_child_stats *ta_stats_slot(void *base, size_t slot_size, int slot)
{
    return (ta_child_stats *) ((char *) base + slot_size * (size_t) slot);
}

ta_worker_stats *ta_stats_worker(ta_child_stats *c, const ta_worker_config *cfg, int w)
{
    size_t off = round64(sizeof(ta_child_stats));
    for (int i = 0; i < w; i++) off += worker_size(&cfg[i]);
    return (ta_worker_stats *) ((char *) c + off);
}

void ta_stats_observe(ta_worker_stats *ws, uint64_t us)
{
    static const unsigned bounds[] = TA_HIST_BOUNDS_MS;
    int b = 0;
    while (b < TA_HIST_BUCKETS - 1 && us > (uint64_t) bounds[b] * 1000u) b++;
    ta_stat_add(&ws->hist[b], 1);
    ta_stat_add(&ws->hist_sum_us, us);
    ta_stat_add(&ws->hist_count, 1);
}

void ta_stats_set_error(ta_thread_stats *ts, const char *msg)
{
    /* readers in other processes may see it half-written; it stays a string */
    size_t n = strlen(msg);
    if (n >= TA_LAST_ERROR_LEN) n = TA_LAST_ERROR_LEN - 1;
    ts->last_error[n] = '\0';
    for (size_t i = 0; i < n; i++) ts->last_error[i] = msg[i] == '\n' ? ' ' : msg[i];
}
