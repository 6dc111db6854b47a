/* Unit tests for worker_stats.c and status_page.c: the layout of a child's
 * region, the histogram, and the page in each format from known figures. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../status_page.h"
#include "../../thread_mailbox.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    tap_plan(14);
    ta_worker_config cfg[2] = {
        { .script = "/srv/a \"q\".php", .threads = 2, .buffer_size = 20, .max_requests = 50, .max_failures = 6 },
        { .script = "/srv/b.php", .threads = 1, .buffer_size = 5, .request_timeout = 30 },
    };
    size_t sz = ta_stats_slot_size(cfg, 2);
    tap_ok(sz % 64 == 0 && sz >= sizeof(ta_child_stats) + 2 * sizeof(ta_worker_stats) + 3 * sizeof(ta_php_thread_stats),
           "a slot holds both workers and their threads (%zu bytes)", sz);
    void *base = calloc(2, sz);
    ta_child_stats *k0 = ta_stats_slot(base, sz, 0), *k1 = ta_stats_slot(base, sz, 1);
    ta_worker_stats *a = ta_stats_worker(k0, cfg, 0), *b = ta_stats_worker(k0, cfg, 1);
    tap_ok((char *) &a->threads[2] <= (char *) b && (char *) &b->threads[1] <= (char *) k1,
           "workers and threads do not overlap, and stay in their slot");
    k0->pid = 101; k1->pid = 202;
    ta_stat_add(&a->threads[1].served, 7);
    a->threads[1].state = TA_PHP_THREAD_RECYCLING;
    ta_stat_add(&a->threads[0].recycles[TA_RECYCLE_MAX_REQUESTS], 3);
    ta_stats_set_error(&ta_stats_worker(k1, cfg, 1)->threads[0], "Parse error\nline 2");
    ta_stat_set(&a->threads[0].concurrency, 1);     /* a loop worker's one at a time; thread 1: no limit */
    ta_stats_observe(a, 3000);      /* 3 ms */
    ta_stats_observe(a, 70000);     /* 70 ms */
    ta_stats_observe(a, 60000000);  /* 60 s: +Inf */
    tap_ok(a->hist[0] == 1 && a->hist[4] == 1 && a->hist[TA_HIST_BUCKETS - 1] == 1 && a->hist_count == 3,
           "durations land in their buckets");

    ta_child_stats *kids[] = { k0, k1 };
    size_t len;
    char *p = ta_status_render(TA_STATUS_PROMETHEUS, cfg, 2, kids, 2, &len);
    tap_ok(p && strlen(p) == len, "prometheus: rendered");
    tap_ok(strstr(p, "trueasync_requests_total{worker=\"/srv/a \\\"q\\\".php\",pid=\"101\",thread=\"1\"} 7\n") != NULL,
           "a thread's counter, with its labels escaped");
    tap_ok(strstr(p, "trueasync_request_duration_seconds_bucket{worker=\"/srv/a \\\"q\\\".php\",pid=\"101\",le=\"0.1\"} 2\n")
           && strstr(p, "le=\"+Inf\"} 3\n"), "the histogram is cumulative");
    tap_ok(strstr(p, "thread=\"1\",state=\"recycling\"} 1") && strstr(p, "pid=\"202\",thread=\"0\",cause=\"max_requests\"} 0"),
           "every child's threads, states and recycle causes");
    free(p);
    p = ta_status_render(TA_STATUS_JSON, cfg, 2, kids, 2, &len);
    tap_ok(p && strstr(p, "\"last_boot_error\":\"Parse error line 2\""), "json: the last boot error (one line)");
    tap_ok(strstr(p, "\"TrueAsyncRequestTimeout\":30") && strstr(p, "\"pid\":202"), "json: directives and both children");
    tap_ok(strstr(p, "\"thread\":0,\"state\":\"booting\"") && strstr(p, "\"max_concurrency\":1,")
           && strstr(p, "\"TrueAsyncMaxConcurrency\":0"), "json: the concurrency in force and the directive (0: auto)");
    free(p);
    p = ta_status_render(TA_STATUS_HTML, cfg, 2, kids, 2, &len);
    tap_ok(p && strstr(p, "/srv/a &quot;q&quot;.php") && strstr(p, "<td>recycling</td>"), "html: escaped, with the states");
    tap_ok(strstr(p, "TrueAsyncMaxConcurrency auto") && strstr(p, "<td>1</td><td>") && strstr(p, "<td>no limit</td>"),
           "html: MaxConcurrency auto, and per thread the limit in force");
    free(p);
    p = ta_status_render(TA_STATUS_AUTO, cfg, 2, kids, 2, &len);
    tap_ok(p && strstr(p, "TrueAsyncRequests: 7\n") && strstr(p, "TrueAsyncChildren: 2\n"), "?auto: the totals");
    free(p);
    p = ta_status_render(TA_STATUS_SUMMARY, cfg, 2, kids, 0, &len);
    tap_ok(p && strstr(p, "<h2>TrueAsync</h2>"), "mod_status section, even with no child");
    free(p);
    free(base);
    return tap_done();
}
