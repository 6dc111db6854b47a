/* Unit tests for worker_scale.c, the decisions of TrueAsyncThreads MIN MAX:
 * a thread starts when requests waited long enough (or were refused) and
 * none boots, none idles, the worker is under MAX; one above MIN retires
 * after the idle timeout; the pressure is tracked across ticks. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../worker_scale.h"

#include <stdint.h>

static ta_scale_view busy(void)
{
    return (ta_scale_view) { .min = 1, .max = 4, .live = 1, .pressure_ms = TA_SCALE_PRESSURE_MS,
                             .since_fail_ms = UINT64_MAX };
}

static void test_grow(void)
{
    ta_scale_view v = busy();
    tap_ok(ta_scale_grow(&v), "grow: requests waited %d ms, one thread, max 4: start one", TA_SCALE_PRESSURE_MS);
    v.pressure_ms = TA_SCALE_PRESSURE_MS - 1;
    tap_ok(!ta_scale_grow(&v), "grow: a wait shorter than the threshold starts nothing");
    v.refused = 1;
    tap_ok(ta_scale_grow(&v), "grow: a 503 for full queues starts one at once");
    v = busy();
    v.booting = 1;
    tap_ok(!ta_scale_grow(&v), "grow: one boot at a time");
    v = busy();
    v.live = 4;
    tap_ok(!ta_scale_grow(&v), "grow: never above MAX");
    v = busy();
    v.idle_ready = 1;
    tap_ok(!ta_scale_grow(&v), "grow: not while a ready thread holds nothing");
    v = busy();
    v.since_fail_ms = 100;
    tap_ok(!ta_scale_grow(&v), "grow: not just after a boot failed");
    v = busy();
    v.min = 2;
    v.pressure_ms = 0;
    tap_ok(ta_scale_grow(&v), "grow: below MIN (a start failed): back to MIN without load");
}

static void test_retire(void)
{
    tap_ok(ta_scale_retire(3, 0, 1, 2000, 2000), "retire: above MIN, idle for the timeout");
    tap_ok(!ta_scale_retire(3, 0, 1, 1999, 2000), "retire: not before the timeout");
    tap_ok(!ta_scale_retire(1, 0, 1, 9000, 2000), "retire: never below MIN");
    tap_ok(!ta_scale_retire(3, 2, 1, 9000, 2000), "retire: those already retiring count as gone");
    tap_ok(!ta_scale_retire(3, 0, 1, 9000, 0), "retire: timeout 0 means never");
}

static void test_pressure(void)
{
    uint64_t since = 0;
    tap_is_int((int) ta_scale_pressure(&since, 1, 1000), 0, "pressure: begins at 0 ms");
    tap_is_int((int) ta_scale_pressure(&since, 1, 1015), 15, "pressure: lasts while requests wait");
    tap_is_int((int) ta_scale_pressure(&since, 0, 1020), 0, "pressure: a tick with none ends it");
    tap_is_int((int) ta_scale_pressure(&since, 1, 1025), 0, "pressure: then it begins again");
}

int main(void)
{
    tap_plan(8 + 5 + 4);
    test_grow();
    test_retire();
    test_pressure();
    return tap_done();
}
