/* The order in which the scheduler runs ready coroutines (php-async's): one
 * call of ta_sched_run_ready() runs the queue first in, first out until it
 * is empty, what becomes ready meanwhile included (a spawn, a wake-up, a
 * coroutine that queues itself again), so the loop sees I/O only once the
 * queue is empty. A queue that keeps refilling itself still gives way: after
 * TA_SCHED_IO_EVERY_MS, or at the next clock tick once the news hook says
 * news waits; a timer due meanwhile fires at the next loop run. */
#include "harness.h"
#include "scheduler.h"

static ta_sched sched;

/* What the coroutines did, in order: one letter each step. */
static char trace[64];
static size_t n_trace;
static int spins;               /* rounds the spinning coroutine made */
static bool spin_stop;

static void note(char c) { if (n_trace < sizeof trace - 1) trace[n_trace++] = c; trace[n_trace] = '\0'; }

/* Goes to the back of the ready queue, as Async\suspend() does. */
static void yield_now(void)
{
    ta_coro *co = ta_coro_current();
    co->state = TA_CORO_SUSPENDED;
    ta_coro_wake(co);
    ta_coro_wait(NULL, NULL);
}

static ta_coro *spawn_body(zend_long body);

static ta_coro *parked;         /* waits until someone wakes it */

/* The bodies, by number (the coroutine function's argument). */
static void run_body(zend_long body)
{
    switch (body) {
    case 0:                     /* A: spawns C, queues itself behind, wakes the parked one */
        note('A');
        spawn_body(2);
        yield_now();
        note('a');
        if (parked) { ta_coro_wake(parked); parked = NULL; }
        break;
    case 1: note('B'); break;
    case 2: note('C'); break;
    case 3:                     /* P: parks, and runs once A woke it */
        parked = ta_coro_current();
        ta_coro_wait(NULL, NULL);
        note('P');
        break;
    case 4:                     /* a coroutine that never waits for anything but itself */
        while (!spin_stop) { spins++; yield_now(); }
        break;
    }
}

static ZEND_FUNCTION(order_test_runner)
{
    ZEND_PARSE_PARAMETERS_NONE();
    (void) return_value;
    sched.starting_runner = 0;
    ta_sched_runner_main();
}

static ZEND_FUNCTION(order_test_coro)
{
    zend_long body;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(body)
    ZEND_PARSE_PARAMETERS_END();
    (void) return_value;
    run_body(body);
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_void, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_coro, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, body, IS_LONG, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry order_test_functions[] = {
    ZEND_FE(order_test_runner, ai_void)
    ZEND_FE(order_test_coro, ai_coro)
    ZEND_FE_END
};

static ta_coro *spawn_body(zend_long body)
{
    zval fn, arg;
    ZVAL_STRING(&fn, "order_test_coro");
    ZVAL_LONG(&arg, body);
    ta_coro *co = ta_sched_spawn(&sched, &fn, 1, &arg, NULL, NULL);
    zval_ptr_dtor(&fn);
    return co;
}

static void reset_trace(void) { n_trace = 0; trace[0] = '\0'; }

static void test_fifo_drain(void)
{
    reset_trace();
    spawn_body(3);
    ta_sched_run_ready(&sched);
    tap_ok(!ta_sched_has_ready(&sched) && parked, "a coroutine that waits leaves the queue empty");
    spawn_body(0);
    spawn_body(1);
    ta_sched_run_ready(&sched);
    tap_ok(strcmp(trace, "ABCaP") == 0,
           "one run: A, B, then C (spawned by A), A again (queued itself behind C), P (woken by A): %s", trace);
    tap_ok(!ta_sched_has_ready(&sched) && sched.live == 0, "the queue is empty when the run returns, all finished");
}

static void timer_fired(rec *r, zend_async_event_t *e, void *result, zend_object *ex)
{
    (void) e; (void) result; (void) ex;
    *(int *) r->ctx = spins;
}

/* A due timer fires only at the loop's next run: after the drain gave way. */
static void test_gives_way(void)
{
    int spins_at_fire = -1;
    rec r = { .hook = timer_fired, .ctx = &spins_at_fire };
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT(1, false);
    t->base.add_callback(&t->base, rec_callback(&r));
    t->base.start(&t->base);
    spins = 0;
    spin_stop = false;
    ta_coro *spinner = spawn_body(4);
    uint64_t t0 = now_ms();
    ta_sched_run_ready(&sched);
    uint64_t took = now_ms() - t0;
    int spins_in_run = spins;
    tap_ok(ta_sched_has_ready(&sched) && took >= TA_SCHED_IO_EVERY_MS - 10 && took < TA_SCHED_IO_EVERY_MS * 4,
           "a coroutine that keeps queuing itself runs until the loop is due (%llu ms, %d rounds)",
           (unsigned long long) took, spins_in_run);
    tap_ok(r.calls == 0, "the 1 ms timer did not fire during the run");
    RUN_UNTIL(r.calls == 1, 1000);
    tap_ok(r.calls == 1 && spins_at_fire == spins_in_run, "it fires at the loop's next run, before the spinner runs again");
    t->base.stop(&t->base);
    ZEND_ASYNC_EVENT_RELEASE(&t->base);
    rec_clear(&r);

    spin_stop = true;
    ta_sched_run_ready(&sched);
    tap_ok(!ta_sched_has_ready(&sched) && spinner && sched.live == 0, "the spinner stops when told");
}

static bool news_true(void *ctx) { return *(bool *) ctx; }

static void test_news(void)
{
    static bool flag = true;
    sched.news = news_true;
    sched.news_ctx = &flag;
    spins = 0;
    spin_stop = false;
    spawn_body(4);
    uint64_t t0 = now_ms();
    ta_sched_run_ready(&sched);
    uint64_t took = now_ms() - t0;
    tap_ok(ta_sched_has_ready(&sched) && took < 40,
           "with news waiting the run gives way at the next clock tick (%llu ms)", (unsigned long long) took);
    flag = false;
    t0 = now_ms();
    ta_sched_run_ready(&sched);
    took = now_ms() - t0;
    tap_ok(took >= TA_SCHED_IO_EVERY_MS - 10, "with none, it runs its full time (%llu ms)", (unsigned long long) took);
    sched.news = NULL;
    spin_stop = true;
    ta_sched_run_ready(&sched);
    tap_ok(sched.live == 0, "the spinner stops when told");
}

static void body(void)
{
    tap_plan(11);
    ta_sched_set_runner_function(zend_hash_str_find_ptr(CG(function_table), ZEND_STRL("order_test_runner")));
    ta_sched_init(&sched, ta_reactor_loop());
    test_fifo_drain();
    test_gives_way();
    test_news();
    tap_ok(sched.live == 0 && EG(exception) == NULL, "every coroutine finished, nothing pending");
    ta_sched_destroy(&sched);
    ta_sched_current = NULL;
}

int main(int argc, char **argv)
{
    harness_functions = order_test_functions;
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
