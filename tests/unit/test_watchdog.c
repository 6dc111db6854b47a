/* Unit tests for watchdog.c: a coroutine run that lasts gets the TICK flag
 * and the VM interrupt raised, the SLOW flag once per run after the
 * slow-log time, a passed deadline the DEADLINE flag and a wake-up; the
 * figures get the thread's state and queue. Without PHP. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../watchdog.h"
#include "../../thread_mailbox.h"
#include "../../worker_stats.h"
#include "../../ta_clock.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static ta_mailbox box;
static ta_php_thread_stats stats;
static int raised;

static void count_raise(void *arg) { (void) arg; __atomic_fetch_add(&raised, 1, __ATOMIC_RELAXED); }

/* The flags taken until `want` is among them or ms have passed (a loaded
 * machine may run the watchdog late). */
static int wait_flags(int want, int ms)
{
    int f = 0;
    for (int i = 0; i < ms / 5 && !(f & want); i++) {
        usleep(5000);
        f |= ta_watch_take(&box.watch);
    }
    return f;
}

int main(void)
{
    tap_plan(10);
    ta_mailbox_init(&box, 0, 4);
    ta_mailbox_set_state(&box, TA_PHP_THREAD_READY);
    ta_mailbox_set_interrupt(&box, count_raise, NULL);
    box.stats = &stats;
    box.watch.slowlog_ms = 60;
    ta_mailbox *boxes[] = { &box };
    tap_is_int(ta_watchdog_start(boxes, 1, NULL), 0, "the watchdog starts");

    /* a loaded machine may run the first tick late: wait for its copy */
    for (int i = 0; i < 400 && __atomic_load_n(&stats.state, __ATOMIC_RELAXED) != TA_PHP_THREAD_READY; i++)
        usleep(5000);
    tap_is_int((int) __atomic_load_n(&stats.state, __ATOMIC_RELAXED), TA_PHP_THREAD_READY, "the thread's state is copied into the figures");
    usleep(30000);
    tap_is_int(__atomic_load_n(&raised, __ATOMIC_RELAXED), 0, "nothing runs: no interrupt");

    ta_exchange *ex = ta_exchange_new();
    ta_queue_push(&box.queue, ex);
    ta_watch_run_begin(&box.watch);
    int f = wait_flags(TA_WATCH_TICK, 2000);
    tap_ok(f & TA_WATCH_TICK, "a run lasting several ticks gets TICK");
    tap_ok(__atomic_load_n(&raised, __ATOMIC_RELAXED) > 0, "... and its VM interrupt raised");
    tap_is_int((int) ta_stat_get(&stats.queued), 1, "the queue depth is copied into the figures");
    if (!(f & TA_WATCH_SLOW)) f |= wait_flags(TA_WATCH_SLOW, 2000);     /* a late first look may bring both */
    tap_ok((f & TA_WATCH_SLOW) && box.watch.slow_seq == box.watch.run_seq, "past the slow-log time: SLOW for this run");
    usleep(100000);
    tap_ok(!(ta_watch_take(&box.watch) & TA_WATCH_SLOW), "... once per run");
    ta_watch_run_end(&box.watch);

    ta_notifier_drain(&box.wake);
    ta_watch_set_deadline(&box.watch, ta_now_ms() + 20);
    tap_ok(wait_flags(TA_WATCH_DEADLINE, 2000) & TA_WATCH_DEADLINE, "a passed deadline: DEADLINE");
    tap_ok(ta_notifier_drain(&box.wake), "... and the thread's loop is woken");

    ta_watchdog_stop();
    void *out[4];
    ta_queue_pop(&box.queue, out, 4);
    ta_exchange_release(ex);
    ta_exchange_release(ex);
    ta_mailbox_destroy(&box);
    return tap_done();
}
