#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "worker_stats.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t round64(size_t n) { return (n + 63) & ~(size_t) 63; }

static size_t worker_size(const ta_worker_config *c)
{
    return round64(sizeof(ta_worker_stats) + (size_t) ta_cfg_slots(c) * sizeof(ta_php_thread_stats));
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

void ta_stats_set_error(ta_php_thread_stats *ts, const char *msg)
{
    /* readers in other processes may see it half-written; it stays a string */
    size_t n = strlen(msg);
    if (n >= TA_LAST_ERROR_LEN) n = TA_LAST_ERROR_LEN - 1;
    ts->last_error[n] = '\0';
    for (size_t i = 0; i < n; i++) ts->last_error[i] = msg[i] == '\n' ? ' ' : msg[i];
}

ta_child_stats *ta_stats_claim(ta_stats_region *rg, ta_slot_pid_fn slot_pid, unsigned wait_ms)
{
    long me = (long) getpid();
    rg->mine = -1;
    if (!rg->base) return NULL;
    for (unsigned waited = 0; rg->mine < 0 && waited <= wait_ms; waited++) {
        for (int i = 0; i < rg->slots; i++)
            if (slot_pid(i) == me) { rg->mine = i; break; }
        if (rg->mine < 0) usleep(1000);
    }
    if (rg->mine < 0) return NULL;
    ta_child_stats *c = ta_stats_slot(rg->base, rg->slot_size, rg->mine);
    /* a child started in the slot of one still exiting takes it over */
    memset(c, 0, rg->slot_size);
    c->slot = rg->mine;
    c->started = (uint64_t) time(NULL);
    __atomic_store_n(&c->pid, (int64_t) me, __ATOMIC_RELEASE);
    return c;
}

int ta_stats_live(const ta_stats_region *rg, ta_slot_pid_fn slot_pid, ta_child_stats **out)
{
    int n = 0;
    for (int i = 0; rg->base && i < rg->slots; i++) {
        ta_child_stats *c = ta_stats_slot(rg->base, rg->slot_size, i);
        long pid = (long) __atomic_load_n(&c->pid, __ATOMIC_ACQUIRE);
        if (!pid) continue;
        if (i != rg->mine && (slot_pid(i) != pid || kill((pid_t) pid, 0) != 0)) continue;
        out[n++] = c;
    }
    return n;
}
