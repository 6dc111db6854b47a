#include "status_page.h"
#include "thread_mailbox.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *p; size_t len, cap; bool oom; } buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = true; return; }
        if (b->p && b->len + (size_t) n < b->cap) { b->len += (size_t) n; return; }
        size_t cap = b->cap ? b->cap * 2 : 16384;
        while (cap < b->len + (size_t) n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) { b->oom = true; return; }
        b->p = np;
        b->cap = cap;
    }
}

/* A string escaped for HTML, JSON or a Prometheus label value. */
enum { ESC_HTML, ESC_JSON, ESC_LABEL };
static void put_esc(buf *b, const char *s, int how)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;
        if (how == ESC_HTML && strchr("<>&\"", c))
            put(b, "%s", c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : "&quot;");
        else if (how != ESC_HTML && (c == '"' || c == '\\')) put(b, "\\%c", c);
        else if (how != ESC_HTML && c == '\n') put(b, "\\n");
        else if (how == ESC_JSON && c < 0x20) put(b, "\\u%04x", c);
        else if (c < 0x20) put(b, " ");
        else put(b, "%c", c);
    }
}

static const char *state_name(int64_t s)
{
    switch (s) {
    case TA_PHP_THREAD_BOOTING: return "booting";
    case TA_PHP_THREAD_READY: return "ready";
    case TA_PHP_THREAD_FAILED: return "failed";
    case TA_PHP_THREAD_STOPPED: return "stopped";
    case TA_PHP_THREAD_RECYCLING: return "recycling";
    case TA_PHP_THREAD_IDLE: return "idle";
    }
    return "unknown";
}
static const int64_t state_ids[] = { TA_PHP_THREAD_BOOTING, TA_PHP_THREAD_READY, TA_PHP_THREAD_RECYCLING, TA_PHP_THREAD_FAILED, TA_PHP_THREAD_STOPPED,
                                     TA_PHP_THREAD_IDLE };

static const char *const recycle_names[TA_RECYCLE_CAUSES] = {
    "max_requests", "max_memory", "fatal_error", "script_ended", "watch", "graceful_shutdown" };
static const char *const reject_names[TA_REJECT_CAUSES] = { "queues_full", "wait_time", "unavailable" };
static const unsigned hist_bounds[] = TA_HIST_BOUNDS_MS;
static const char *const start_names[TA_START_CAUSES] = { "min", "load" };
static const char *const stop_names[TA_STOP_CAUSES] = { "idle", "boot_failed" };

/* A worker's threads in one child (TrueAsyncThreads MIN MAX): serving
 * (ready or recycling), booting, failed, and idle slots (not started, or
 * retired). */
typedef struct { int running, booting, failed, idle; } pool_counts;
static pool_counts count_pool(const ta_worker_stats *ws, const ta_worker_config *c)
{
    pool_counts n = {0};
    for (int t = 0; t < ta_cfg_slots(c); t++) {
        int64_t s = __atomic_load_n(&ws->threads[t].state, __ATOMIC_RELAXED);
        if (s == TA_PHP_THREAD_READY || s == TA_PHP_THREAD_RECYCLING) n.running++;
        else if (s == TA_PHP_THREAD_BOOTING) n.booting++;
        else if (s == TA_PHP_THREAD_FAILED) n.failed++;
        else n.idle++;
    }
    return n;
}

/* The per-thread counters and gauges, one table for every format. */
typedef struct { const char *name, *help, *type; size_t off; } metric;
#define TM(f) offsetof(ta_php_thread_stats, f)
static const metric thread_metrics[] = {
    { "requests_total", "Requests a PHP thread has finished.", "counter", TM(served) },
    { "requests_in_flight", "Requests a PHP thread runs now.", "gauge", TM(inflight) },
    { "requests_queued", "Requests waiting in a PHP thread's queue.", "gauge", TM(queued) },
    { "coroutines", "Coroutines alive on a PHP thread.", "gauge", TM(coroutines) },
    { "php_memory_bytes", "PHP memory in use on a PHP thread.", "gauge", TM(memory) },
    { "boots_total", "Boots of the worker script that reached onRequest().", "counter", TM(boots) },
    { "boot_failures_total", "Boots of the worker script that failed.", "counter", TM(boot_failures) },
    { "timeouts_total", "Requests cancelled by TrueAsyncRequestTimeout.", "counter", TM(timeouts) },
    { "slowlog_total", "Slow-log entries (TrueAsyncSlowlogTimeout).", "counter", TM(slow) },
    { "max_concurrency", "Requests a PHP thread runs at once (TrueAsyncMaxConcurrency in force; 0: no limit).",
      "gauge", TM(concurrency) },
};
#define N_TM (sizeof thread_metrics / sizeof thread_metrics[0])

static uint64_t tget(const ta_php_thread_stats *t, size_t off) { return ta_stat_get((const uint64_t *) ((const char *) t + off)); }
static int64_t tstate(const ta_php_thread_stats *t) { return __atomic_load_n(&t->state, __ATOMIC_RELAXED); }

typedef struct {
    buf *b;
    const ta_worker_config *cfg;
    int n_workers;
    ta_child_stats *const *kids;
    int n_kids;
} page;

static ta_worker_stats *W(const page *pg, int k, int w) { return ta_stats_worker(pg->kids[k], pg->cfg, w); }
static long long kpid(const page *pg, int k) { return (long long) __atomic_load_n(&pg->kids[k]->pid, __ATOMIC_RELAXED); }

/* ---- Prometheus ------------------------------------------------------------------ */

static void labels(const page *pg, int k, int w)
{
    put(pg->b, "worker=\"");
    put_esc(pg->b, pg->cfg[w].script, ESC_LABEL);
    put(pg->b, "\",pid=\"%lld\"", kpid(pg, k));
}

static void family(buf *b, const char *name, const char *help, const char *type)
{
    put(b, "# HELP trueasync_%s %s\n# TYPE trueasync_%s %s\n", name, help, name, type);
}

static void prom_threads(const page *pg)
{
    buf *b = pg->b;
    for (size_t m = 0; m < N_TM; m++) {
        family(b, thread_metrics[m].name, thread_metrics[m].help, thread_metrics[m].type);
        for (int k = 0; k < pg->n_kids; k++)
            for (int w = 0; w < pg->n_workers; w++)
                for (int t = 0; t < ta_cfg_slots(&pg->cfg[w]); t++) {
                    put(b, "trueasync_%s{", thread_metrics[m].name);
                    labels(pg, k, w);
                    put(b, ",thread=\"%d\"} %llu\n", t,
                        (unsigned long long) tget(&W(pg, k, w)->threads[t], thread_metrics[m].off));
                }
    }
    family(b, "thread_state", "1 for the state a PHP thread is in.", "gauge");
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++)
            for (int t = 0; t < ta_cfg_slots(&pg->cfg[w]); t++)
                for (size_t s = 0; s < sizeof state_ids / sizeof state_ids[0]; s++) {
                    put(b, "trueasync_thread_state{");
                    labels(pg, k, w);
                    put(b, ",thread=\"%d\",state=\"%s\"} %d\n", t, state_name(state_ids[s]),
                        tstate(&W(pg, k, w)->threads[t]) == state_ids[s]);
                }
    family(b, "recycles_total", "Fresh boots of the worker script, by cause.", "counter");
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++)
            for (int t = 0; t < ta_cfg_slots(&pg->cfg[w]); t++)
                for (int c = 0; c < TA_RECYCLE_CAUSES; c++) {
                    put(b, "trueasync_recycles_total{");
                    labels(pg, k, w);
                    put(b, ",thread=\"%d\",cause=\"%s\"} %llu\n", t, recycle_names[c],
                        (unsigned long long) ta_stat_get(&W(pg, k, w)->threads[t].recycles[c]));
                }
}

static void prom_pool(const page *pg)
{
    buf *b = pg->b;
    family(b, "threads", "A worker's PHP threads by state (TrueAsyncThreads MIN MAX; idle: slots with no thread).", "gauge");
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++) {
            pool_counts n = count_pool(W(pg, k, w), &pg->cfg[w]);
            const int v[] = { n.running, n.booting, n.failed, n.idle };
            const char *names[] = { "running", "booting", "failed", "idle" };
            for (int i = 0; i < 4; i++) {
                put(b, "trueasync_threads{");
                labels(pg, k, w);
                put(b, ",state=\"%s\"} %d\n", names[i], v[i]);
            }
        }
    family(b, "thread_starts_total", "PHP threads started, by cause (min: with the child; load: requests waited).", "counter");
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++)
            for (int c = 0; c < TA_START_CAUSES; c++) {
                put(b, "trueasync_thread_starts_total{");
                labels(pg, k, w);
                put(b, ",cause=\"%s\"} %llu\n", start_names[c], (unsigned long long) ta_stat_get(&W(pg, k, w)->thread_starts[c]));
            }
    family(b, "thread_stops_total", "PHP threads that left, by cause (idle: TrueAsyncThreadIdleTimeout).", "counter");
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++)
            for (int c = 0; c < TA_STOP_CAUSES; c++) {
                put(b, "trueasync_thread_stops_total{");
                labels(pg, k, w);
                put(b, ",cause=\"%s\"} %llu\n", stop_names[c], (unsigned long long) ta_stat_get(&W(pg, k, w)->thread_stops[c]));
            }
}

static void prom_workers(const page *pg)
{
    buf *b = pg->b;
    prom_pool(pg);
    family(b, "rejected_total", "Requests Apache answered 503 itself, by cause.", "counter");
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++)
            for (int c = 0; c < TA_REJECT_CAUSES; c++) {
                put(b, "trueasync_rejected_total{");
                labels(pg, k, w);
                put(b, ",cause=\"%s\"} %llu\n", reject_names[c], (unsigned long long) ta_stat_get(&W(pg, k, w)->rejected[c]));
            }
    family(b, "request_duration_seconds", "Time from the handler's start to the response's end.", "histogram");
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++) {
            ta_worker_stats *ws = W(pg, k, w);
            uint64_t cum = 0;
            for (int i = 0; i < TA_HIST_BUCKETS; i++) {
                cum += ta_stat_get(&ws->hist[i]);
                put(b, "trueasync_request_duration_seconds_bucket{");
                labels(pg, k, w);
                if (i < TA_HIST_BUCKETS - 1) put(b, ",le=\"%g\"} %llu\n", hist_bounds[i] / 1000.0, (unsigned long long) cum);
                else put(b, ",le=\"+Inf\"} %llu\n", (unsigned long long) cum);
            }
            put(b, "trueasync_request_duration_seconds_sum{");
            labels(pg, k, w);
            put(b, "} %.6f\n", ta_stat_get(&ws->hist_sum_us) / 1e6);
            put(b, "trueasync_request_duration_seconds_count{");
            labels(pg, k, w);
            put(b, "} %llu\n", (unsigned long long) cum);
        }
}

/* The directives of each worker, as the first server naming it has them. */
typedef struct { const char *name; long long value; } directive;
static int directives(const ta_worker_config *c, directive *d)
{
    int n = 0;
    d[n++] = (directive) { "TrueAsyncThreads", c->threads };    /* MIN */
    d[n++] = (directive) { "TrueAsyncThreadsMax", ta_cfg_slots(c) };
    d[n++] = (directive) { "TrueAsyncThreadIdleTimeout", c->idle_timeout };
    d[n++] = (directive) { "TrueAsyncBufferSize", c->buffer_size };
    d[n++] = (directive) { "TrueAsyncRetryAfter", c->retry_after };
    d[n++] = (directive) { "TrueAsyncMaxRequests", c->max_requests };
    d[n++] = (directive) { "TrueAsyncMaxMemory", c->max_memory };
    d[n++] = (directive) { "TrueAsyncMaxConsecutiveFailures", c->max_failures };
    d[n++] = (directive) { "TrueAsyncWatch", c->watch };
    d[n++] = (directive) { "TrueAsyncMaxConcurrency", c->max_concurrency };   /* 0: auto */
    d[n++] = (directive) { "TrueAsyncRequestTimeout", c->request_timeout };
    d[n++] = (directive) { "TrueAsyncMaxWaitTime", c->max_wait_ms };
    d[n++] = (directive) { "TrueAsyncSlowlogTimeout", c->slowlog_ms };
    return n;
}

static void prom_config(const page *pg)
{
    buf *b = pg->b;
    family(b, "config", "A worker's directive values (server level; TrueAsyncRequestTimeout may differ per location).", "gauge");
    for (int w = 0; w < pg->n_workers; w++) {
        directive d[16];
        int n = directives(&pg->cfg[w], d);
        for (int i = 0; i < n; i++) {
            put(b, "trueasync_config{worker=\"");
            put_esc(b, pg->cfg[w].script, ESC_LABEL);
            put(b, "\",directive=\"%s\"} %lld\n", d[i].name, d[i].value);
        }
    }
    family(b, "children", "Apache children whose figures this page shows.", "gauge");
    put(b, "trueasync_children %d\n", pg->n_kids);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_thread(buf *b, const ta_php_thread_stats *t, int idx)
{
    put(b, "{\"thread\":%d,\"state\":\"%s\"", idx, state_name(tstate(t)));
    for (size_t m = 0; m < N_TM; m++) put(b, ",\"%s\":%llu", thread_metrics[m].name, (unsigned long long) tget(t, thread_metrics[m].off));
    put(b, ",\"recycles\":{");
    for (int c = 0; c < TA_RECYCLE_CAUSES; c++)
        put(b, "%s\"%s\":%llu", c ? "," : "", recycle_names[c], (unsigned long long) ta_stat_get(&t->recycles[c]));
    put(b, "},\"last_boot_error\":");
    if (t->last_error[0]) { put(b, "\""); put_esc(b, t->last_error, ESC_JSON); put(b, "\""); }
    else put(b, "null");
    put(b, "}");
}

/* "pool": the threads by state, MIN/MAX, and starts and stops by cause. */
static void json_pool(buf *b, const ta_worker_stats *ws, const ta_worker_config *c)
{
    pool_counts n = count_pool(ws, c);
    put(b, "\"pool\":{\"min\":%d,\"max\":%d,\"running\":%d,\"booting\":%d,\"failed\":%d,\"idle\":%d,\"starts\":{",
        c->threads, ta_cfg_slots(c), n.running, n.booting, n.failed, n.idle);
    for (int i = 0; i < TA_START_CAUSES; i++)
        put(b, "%s\"%s\":%llu", i ? "," : "", start_names[i], (unsigned long long) ta_stat_get(&ws->thread_starts[i]));
    put(b, "},\"stops\":{");
    for (int i = 0; i < TA_STOP_CAUSES; i++)
        put(b, "%s\"%s\":%llu", i ? "," : "", stop_names[i], (unsigned long long) ta_stat_get(&ws->thread_stops[i]));
    put(b, "}}");
}

static void json_worker(const page *pg, int k, int w)
{
    buf *b = pg->b;
    ta_worker_stats *ws = W(pg, k, w);
    put(b, "{\"worker\":\"");
    put_esc(b, pg->cfg[w].script, ESC_JSON);
    put(b, "\",\"rejected\":{");
    for (int c = 0; c < TA_REJECT_CAUSES; c++)
        put(b, "%s\"%s\":%llu", c ? "," : "", reject_names[c], (unsigned long long) ta_stat_get(&ws->rejected[c]));
    put(b, "},\"duration\":{\"buckets\":[");
    for (int i = 0; i < TA_HIST_BUCKETS; i++) {
        if (i < TA_HIST_BUCKETS - 1) put(b, "%s{\"le_ms\":%u,", i ? "," : "", hist_bounds[i]);
        else put(b, ",{\"le_ms\":null,");
        put(b, "\"count\":%llu}", (unsigned long long) ta_stat_get(&ws->hist[i]));
    }
    put(b, "],\"sum_seconds\":%.6f,\"count\":%llu},", ta_stat_get(&ws->hist_sum_us) / 1e6,
        (unsigned long long) ta_stat_get(&ws->hist_count));
    json_pool(b, ws, &pg->cfg[w]);
    put(b, ",\"threads\":[");
    for (int t = 0; t < ta_cfg_slots(&pg->cfg[w]); t++) {
        if (t) put(b, ",");
        json_thread(b, &ws->threads[t], t);
    }
    put(b, "]}");
}

static void json_page(const page *pg)
{
    buf *b = pg->b;
    put(b, "{\"workers\":[");
    for (int w = 0; w < pg->n_workers; w++) {
        directive d[16];
        int n = directives(&pg->cfg[w], d);
        put(b, "%s{\"script\":\"", w ? "," : "");
        put_esc(b, pg->cfg[w].script, ESC_JSON);
        put(b, "\",\"config\":{");
        for (int i = 0; i < n; i++) put(b, "%s\"%s\":%lld", i ? "," : "", d[i].name, d[i].value);
        put(b, "}}");
    }
    put(b, "],\"children\":[");
    for (int k = 0; k < pg->n_kids; k++) {
        put(b, "%s{\"pid\":%lld,\"slot\":%lld,\"started\":%llu,\"workers\":[", k ? "," : "", kpid(pg, k),
            (long long) pg->kids[k]->slot, (unsigned long long) pg->kids[k]->started);
        for (int w = 0; w < pg->n_workers; w++) {
            if (w) put(b, ",");
            json_worker(pg, k, w);
        }
        put(b, "]}");
    }
    put(b, "]}\n");
}

/* ---- HTML ------------------------------------------------------------------------ */

static void html_pool(const page *pg, int w)
{
    buf *b = pg->b;
    const ta_worker_config *c = &pg->cfg[w];
    put(b, "<ul>\n");
    for (int k = 0; k < pg->n_kids; k++) {
        ta_worker_stats *ws = W(pg, k, w);
        pool_counts n = count_pool(ws, c);
        put(b, "<li>child %lld: PHP threads %d running, %d booting, %d failed, %d idle (min %d, max %d); started:",
            kpid(pg, k), n.running, n.booting, n.failed, n.idle, c->threads, ta_cfg_slots(c));
        for (int i = 0; i < TA_START_CAUSES; i++)
            put(b, " %s %llu", start_names[i], (unsigned long long) ta_stat_get(&ws->thread_starts[i]));
        put(b, "; stopped:");
        for (int i = 0; i < TA_STOP_CAUSES; i++)
            put(b, " %s %llu", stop_names[i], (unsigned long long) ta_stat_get(&ws->thread_stops[i]));
        put(b, "</li>\n");
    }
    put(b, "</ul>\n");
}

static void html_worker(const page *pg, int w)
{
    buf *b = pg->b;
    directive d[16];
    int n = directives(&pg->cfg[w], d);
    put(b, "<h2>Worker ");
    put_esc(b, pg->cfg[w].script, ESC_HTML);
    put(b, "</h2>\n<p>");
    for (int i = 0; i < n; i++) {
        if (strcmp(d[i].name, "TrueAsyncWatch") == 0) put(b, "%s%s %s", i ? ", " : "", d[i].name, d[i].value ? "On" : "Off");
        else if (strcmp(d[i].name, "TrueAsyncMaxConcurrency") == 0 && !d[i].value) put(b, "%s%s auto", i ? ", " : "", d[i].name);
        else put(b, "%s%s %lld", i ? ", " : "", d[i].name, d[i].value);
    }
    put(b, "</p>\n");
    html_pool(pg, w);
    put(b, "<table border=\"1\" cellpadding=\"3\">\n<tr><th>child pid</th><th>thread</th><th>state</th>"
        "<th>requests</th><th>in flight</th><th>queued</th><th>coroutines</th><th>PHP memory</th><th>boots</th>"
        "<th>boot failures</th><th>recycles</th><th>timeouts</th><th>slow log</th><th>at once (max)</th><th>last boot error</th></tr>\n");
    for (int k = 0; k < pg->n_kids; k++) {
        ta_worker_stats *ws = W(pg, k, w);
        for (int t = 0; t < ta_cfg_slots(&pg->cfg[w]); t++) {
            const ta_php_thread_stats *ts = &ws->threads[t];
            put(b, "<tr><td>%lld</td><td>%d</td><td>%s</td>", kpid(pg, k), t, state_name(tstate(ts)));
            for (size_t m = 0; m < 7; m++) {
                uint64_t v = tget(ts, thread_metrics[m].off);
                if (thread_metrics[m].off == TM(memory)) put(b, "<td>%.1f MiB</td>", (double) v / 1048576.0);
                else put(b, "<td>%llu</td>", (unsigned long long) v);
            }
            put(b, "<td>");
            for (int c = 0, any = 0; c < TA_RECYCLE_CAUSES; c++) {
                uint64_t v = ta_stat_get(&ts->recycles[c]);
                if (v) put(b, "%s%s: %llu", any++ ? ", " : "", recycle_names[c], (unsigned long long) v);
            }
            uint64_t most = ta_stat_get(&ts->concurrency);
            put(b, "</td><td>%llu</td><td>%llu</td><td>", (unsigned long long) ta_stat_get(&ts->timeouts),
                (unsigned long long) ta_stat_get(&ts->slow));
            if (most) put(b, "%llu</td><td>", (unsigned long long) most);
            else put(b, "no limit</td><td>");
            put_esc(b, ts->last_error, ESC_HTML);
            put(b, "</td></tr>\n");
        }
    }
    put(b, "</table>\n<table border=\"1\" cellpadding=\"3\">\n<tr><th>child pid</th>");
    for (int c = 0; c < TA_REJECT_CAUSES; c++) put(b, "<th>503 %s</th>", reject_names[c]);
    for (int i = 0; i < TA_HIST_BUCKETS - 1; i++) put(b, "<th>&le; %u ms</th>", hist_bounds[i]);
    put(b, "<th>longer</th><th>requests</th><th>mean</th></tr>\n");
    for (int k = 0; k < pg->n_kids; k++) {
        ta_worker_stats *ws = W(pg, k, w);
        put(b, "<tr><td>%lld</td>", kpid(pg, k));
        for (int c = 0; c < TA_REJECT_CAUSES; c++) put(b, "<td>%llu</td>", (unsigned long long) ta_stat_get(&ws->rejected[c]));
        for (int i = 0; i < TA_HIST_BUCKETS; i++) put(b, "<td>%llu</td>", (unsigned long long) ta_stat_get(&ws->hist[i]));
        uint64_t cnt = ta_stat_get(&ws->hist_count);
        put(b, "<td>%llu</td><td>%.1f ms</td></tr>\n", (unsigned long long) cnt,
            cnt ? ta_stat_get(&ws->hist_sum_us) / 1000.0 / (double) cnt : 0.0);
    }
    put(b, "</table>\n");
}

static void html_page(const page *pg)
{
    put(pg->b, "<!DOCTYPE html>\n<html><head><title>TrueAsync status</title></head><body>\n"
        "<h1>TrueAsync status</h1>\n<p>%d Apache child(ren); <a href=\"?json\">JSON</a>, "
        "<a href=\"?prometheus\">Prometheus</a></p>\n", pg->n_kids);
    for (int w = 0; w < pg->n_workers; w++) html_worker(pg, w);
    put(pg->b, "</body></html>\n");
}

/* ---- mod_status's section -------------------------------------------------------- */

typedef struct { uint64_t threads, ready, served, inflight, queued, coroutines, timeouts, slow, rejected; } totals;

static totals sum_all(const page *pg)
{
    totals s = {0};
    for (int k = 0; k < pg->n_kids; k++)
        for (int w = 0; w < pg->n_workers; w++) {
            ta_worker_stats *ws = W(pg, k, w);
            for (int c = 0; c < TA_REJECT_CAUSES; c++) s.rejected += ta_stat_get(&ws->rejected[c]);
            for (int t = 0; t < ta_cfg_slots(&pg->cfg[w]); t++) {
                const ta_php_thread_stats *ts = &ws->threads[t];
                if (tstate(ts) == TA_PHP_THREAD_IDLE) continue;
                s.threads++;
                s.ready += tstate(ts) == TA_PHP_THREAD_READY;
                s.served += ta_stat_get(&ts->served);
                s.inflight += ta_stat_get(&ts->inflight);
                s.queued += ta_stat_get(&ts->queued);
                s.coroutines += ta_stat_get(&ts->coroutines);
                s.timeouts += ta_stat_get(&ts->timeouts);
                s.slow += ta_stat_get(&ts->slow);
            }
        }
    return s;
}

static void summary(const page *pg, bool autofmt)
{
    totals s = sum_all(pg);
    const char *f = autofmt
        ? "TrueAsyncChildren: %d\nTrueAsyncThreads: %llu\nTrueAsyncThreadsReady: %llu\nTrueAsyncRequests: %llu\n"
          "TrueAsyncInFlight: %llu\nTrueAsyncQueued: %llu\nTrueAsyncCoroutines: %llu\nTrueAsyncTimeouts: %llu\n"
          "TrueAsyncSlowlog: %llu\nTrueAsyncRejected: %llu\n"
        : "<hr /><h2>TrueAsync</h2>\n<dl><dt>%d Apache children, %llu PHP threads (%llu ready)</dt>\n"
          "<dt>%llu requests served, %llu in flight, %llu queued, %llu coroutines alive</dt>\n"
          "<dt>%llu timeouts, %llu slow-log entries, %llu refused with 503</dt></dl>\n";
    put(pg->b, f, pg->n_kids, (unsigned long long) s.threads, (unsigned long long) s.ready,
        (unsigned long long) s.served, (unsigned long long) s.inflight, (unsigned long long) s.queued,
        (unsigned long long) s.coroutines, (unsigned long long) s.timeouts, (unsigned long long) s.slow,
        (unsigned long long) s.rejected);
}

static bool has_arg(const char *args, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = args; p && *p; ) {
        if (strncmp(p, name, n) == 0 && (p[n] == '\0' || p[n] == '&' || p[n] == '=')) return true;
        p = strchr(p, '&');
        if (p) p++;
    }
    return false;
}

int ta_status_format(const char *args, const char **content_type)
{
    if (has_arg(args, "json")) { *content_type = "application/json"; return TA_STATUS_JSON; }
    if (has_arg(args, "prometheus")) { *content_type = "text/plain; version=0.0.4; charset=utf-8"; return TA_STATUS_PROMETHEUS; }
    *content_type = "text/html; charset=utf-8";
    return TA_STATUS_HTML;
}

char *ta_status_render(int format, const ta_worker_config *cfg, int n_workers,
                       ta_child_stats *const *children, int n_children, size_t *len)
{
    buf b = {0};
    page pg = { &b, cfg, n_workers, children, n_children };
    switch (format) {
    case TA_STATUS_JSON: json_page(&pg); break;
    case TA_STATUS_PROMETHEUS: prom_threads(&pg); prom_workers(&pg); prom_config(&pg); break;
    case TA_STATUS_SUMMARY: summary(&pg, false); break;
    case TA_STATUS_AUTO: summary(&pg, true); break;
    default: html_page(&pg); break;
    }
    put(&b, "%s", "");
    if (b.oom) { free(b.p); return NULL; }
    *len = b.len;
    return b.p;
}
