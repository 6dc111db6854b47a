/* The queue of coroutines waiting their turn (coro_turn.c), with real
 * coroutines on Zend fibers: turns come in arrival order; granting one
 * owner's turn takes every waiter of that owner and no other; a waiter
 * cancelled while asleep leaves the queue at once; one granted and then
 * cancelled before it runs keeps its turn; a stray wake-up does not end a
 * wait; a waiter woken to look for its turn stays in line, and leaves it
 * if cancelled then; a refusal sends every waiter away; a run's end lets
 * every waiter go without waking it; a coroutine cancelled before it
 * waits does not sleep. */
#include "harness.h"
#include "scheduler.h"
#include "coro_turn.h"

static ta_sched sched;
static ta_turn_queue queue;

/* What one waiter saw. */
typedef struct {
    const void *owner;
    ta_turn_waiter *w;          /* while it waits (on its stack) */
    zend_result r;
    int state;                  /* its waiter's, after the wait */
    int order;                  /* when it came back, counting from 1 */
    bool looked;                /* came back once from one ta_turn_wait(), still in line */
    zend_object *exception;
    bool returned;
} probe;

static probe probes[8];
static int returned;
static bool once;               /* the body waits once, not until its turn */

static ZEND_FUNCTION(turn_test_runner)
{
    ZEND_PARSE_PARAMETERS_NONE();
    (void) return_value;
    sched.starting_runner = 0;
    ta_sched_runner_main();
}

/* A coroutine: probes[$i] joins the queue and waits for its turn. */
static ZEND_FUNCTION(turn_test_coro)
{
    zend_long i;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(i)
    ZEND_PARSE_PARAMETERS_END();
    (void) return_value;
    probe *p = &probes[i];
    ta_turn_waiter w;
    ta_turn_join(&queue, &w, ta_coro_current(), p->owner);
    p->w = &w;
    p->r = once ? ta_turn_wait(&w) : ta_turn_await(&w);
    if (once && p->r == SUCCESS && w.state == TA_TURN_WAITING) {
        p->looked = ta_turn_first(&queue) == &w;
        ta_turn_take(&w);
    }
    p->w = NULL;
    p->state = w.state;
    p->order = ++returned;
    p->exception = take_exception();
    p->returned = true;
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_void, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_coro, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, i, IS_LONG, 0)
ZEND_END_ARG_INFO()

#define DRIVE_UNTIL(cond, ms) __extension__ ({                              \
        uint64_t dl_ = now_ms() + (ms);                                     \
        while (!(cond) && now_ms() < dl_) {                                 \
            ta_sched_run_ready(&sched);                                     \
            if (!(cond) && !ta_sched_has_ready(&sched)) harness_tick(dl_);  \
        }                                                                   \
        (cond);                                                             \
    })

static ta_coro *coros[8];

/* n waiters, owners[i] each, all asleep in the queue on return. */
static void start(int n, const int *owners)
{
    zval fn, arg;
    memset(probes, 0, sizeof probes);
    returned = 0;
    ZVAL_STRING(&fn, "turn_test_coro");
    for (int i = 0; i < n; i++) {
        probes[i].owner = (const void *) (uintptr_t) (owners ? owners[i] : i + 1);
        ZVAL_LONG(&arg, i);
        coros[i] = ta_sched_spawn(&sched, &fn, 1, &arg, NULL, NULL);
    }
    zval_ptr_dtor(&fn);
    ta_sched_run_ready(&sched);
}

static void release_exceptions(int n)
{
    for (int i = 0; i < n; i++)
        if (probes[i].exception) { OBJ_RELEASE(probes[i].exception); probes[i].exception = NULL; }
}

static int queued(void)
{
    int n = 0;
    for (ta_turn_waiter *w = ta_turn_first(&queue); w; w = w->next) n++;
    return n;
}

static void test_fifo(void)
{
    start(3, NULL);
    tap_ok(queued() == 3 && ta_turn_first(&queue) == probes[0].w && probes[0].w->next == probes[1].w,
           "three waiters stand in the queue in the order they came");
    while (!ta_turn_empty(&queue)) ta_turn_grant(ta_turn_first(&queue));
    DRIVE_UNTIL(returned == 3, 2000);
    tap_ok(probes[0].order == 1 && probes[1].order == 2 && probes[2].order == 3
           && probes[0].state == TA_TURN_GRANTED && probes[2].r == SUCCESS,
           "granted one after another, they get their turns in arrival order");
}

static unsigned granted_calls;
static void count_granted(ta_turn_waiter *w, void *ctx)
{
    (void) ctx;
    granted_calls += w->state == TA_TURN_GRANTED && w->next == NULL;
}

static void test_owner(void)
{
    static const int owners[] = { 7, 8, 7, 8 };
    start(4, owners);
    granted_calls = 0;
    unsigned n = ta_turn_grant_owner(&queue, (const void *) 7, count_granted, NULL);
    tap_ok(n == 2 && granted_calls == 2 && queued() == 2 && ta_turn_first(&queue) == probes[1].w,
           "granting owner 7's turn takes its two waiters out of line, the other owner's stay, in order");
    DRIVE_UNTIL(returned == 2, 2000);
    tap_ok(probes[0].state == TA_TURN_GRANTED && probes[2].state == TA_TURN_GRANTED && !probes[1].returned
           && !probes[3].returned, "both of owner 7's waiters run, owner 8's still wait");
    ta_turn_grant_owner(&queue, (const void *) 8, NULL, NULL);
    DRIVE_UNTIL(returned == 4, 2000);
    tap_ok(returned == 4 && ta_turn_empty(&queue), "then owner 8's two");
}

static void test_cancel(void)
{
    start(3, NULL);
    ta_coro_cancel(coros[1], NULL, "cancelled by the test");
    tap_ok(queued() == 2 && probes[0].w->next == probes[2].w,
           "a waiter cancelled while asleep leaves the queue at once, before it runs");
    DRIVE_UNTIL(probes[1].returned, 2000);
    tap_ok(probes[1].r == FAILURE && probes[1].state == TA_TURN_CANCELLED
           && is_instance(probes[1].exception, ta_ce_async_cancellation),
           "its wait fails with the CancellationError pending, TA_TURN_CANCELLED");
    ta_turn_grant(ta_turn_first(&queue));
    ta_coro_cancel(coros[0], NULL, "cancelled once granted");
    DRIVE_UNTIL(probes[0].returned, 2000);
    tap_ok(probes[0].r == FAILURE && probes[0].state == TA_TURN_GRANTED && probes[0].exception,
           "one granted and then cancelled before it ran keeps its turn, and sees the cancellation");
    ta_turn_refuse_all(&queue);
    DRIVE_UNTIL(returned == 3, 2000);
    release_exceptions(3);
}

static void test_wake(void)
{
    start(1, NULL);
    ta_coro_wake(coros[0]);
    ta_sched_run_ready(&sched);
    tap_ok(!probes[0].returned && queued() == 1, "a stray wake-up does not end a wait for the turn");
    ta_turn_grant(probes[0].w);
    DRIVE_UNTIL(probes[0].returned, 2000);

    once = true;
    start(2, NULL);
    ta_turn_wake_first(&queue);
    DRIVE_UNTIL(probes[0].returned, 2000);
    tap_ok(probes[0].r == SUCCESS && probes[0].looked && probes[0].state == TA_TURN_GRANTED && queued() == 1
           && !probes[1].returned, "the first waiter woken to look is still first in line, and takes its turn");
    ta_turn_refuse_all(&queue);
    DRIVE_UNTIL(returned == 2, 2000);

    start(2, NULL);
    ta_turn_wake_first(&queue);
    ta_coro_cancel(coros[0], NULL, "cancelled once woken");
    tap_ok(queued() == 2, "cancelled after it was woken, it stays in line until it runs");
    DRIVE_UNTIL(probes[0].returned, 2000);
    tap_ok(probes[0].r == FAILURE && probes[0].state == TA_TURN_GAVE_UP && probes[0].exception && queued() == 1
           && ta_turn_first(&queue) == probes[1].w, "then it leaves, TA_TURN_GAVE_UP, the next one first");
    once = false;
    ta_turn_refuse_all(&queue);
    DRIVE_UNTIL(returned == 2, 2000);
    release_exceptions(2);
}

static void test_refuse(void)
{
    start(3, NULL);
    ta_turn_refuse_all(&queue);
    tap_ok(ta_turn_empty(&queue), "a refusal empties the queue at once");
    DRIVE_UNTIL(returned == 3, 2000);
    tap_ok(probes[0].state == TA_TURN_REFUSED && probes[1].state == TA_TURN_REFUSED
           && probes[2].state == TA_TURN_REFUSED && probes[2].r == SUCCESS && !probes[2].exception,
           "every waiter comes back refused, without an exception");
}

/* The run ends: the waiters leave the queue, refused, and sleep on (their
 * stacks may go next); woken later, they find themselves refused. */
static void test_abandon(void)
{
    start(2, NULL);
    ta_turn_waiter *w0 = probes[0].w, *w1 = probes[1].w;
    ta_turn_abandon(&queue);
    bool left = ta_turn_empty(&queue) && w0->state == TA_TURN_REFUSED && w1->state == TA_TURN_REFUSED;
    DRIVE_UNTIL(returned > 0, 100);
    tap_ok(left && returned == 0, "a run's end empties the queue and wakes nobody");
    ta_coro_wake(coros[0]);
    ta_coro_wake(coros[1]);
    DRIVE_UNTIL(returned == 2, 2000);
    tap_ok(probes[0].state == TA_TURN_REFUSED && probes[1].state == TA_TURN_REFUSED && !probes[0].exception,
           "... and a waiter woken afterwards finds itself refused");
}

/* A coroutine that cancels itself, then waits. */
static ZEND_FUNCTION(turn_test_cancelled_first)
{
    ZEND_PARSE_PARAMETERS_NONE();
    (void) return_value;
    ta_coro_cancel(ta_coro_current(), NULL, "cancelled before it waited");
    ta_turn_waiter w;
    ta_turn_join(&queue, &w, ta_coro_current(), NULL);
    probes[0].r = ta_turn_await(&w);
    probes[0].state = w.state;
    probes[0].looked = ta_turn_empty(&queue);
    probes[0].exception = take_exception();
    probes[0].returned = true;
}

static void test_cancelled_first(void)
{
    zval fn;
    memset(probes, 0, sizeof probes);
    zend_function *f = zend_hash_str_find_ptr(CG(function_table), ZEND_STRL("turn_test_cancelled_first"));
    ZVAL_STRING(&fn, "turn_test_cancelled_first");
    ta_sched_spawn(&sched, &fn, 0, NULL, NULL, NULL);
    zval_ptr_dtor(&fn);
    DRIVE_UNTIL(probes[0].returned, 2000);
    tap_ok(f && probes[0].r == FAILURE && probes[0].state == TA_TURN_CANCELLED && probes[0].looked
           && probes[0].exception, "a coroutine cancelled before it waits does not sleep and leaves no trace");
    release_exceptions(1);
}

static void body(void)
{
    tap_plan(18);
    ta_sched_set_runner_function(zend_hash_str_find_ptr(CG(function_table), ZEND_STRL("turn_test_runner")));
    ta_sched_init(&sched, ta_reactor_loop());
    test_fifo();
    test_owner();
    test_cancel();
    test_wake();
    test_refuse();
    test_abandon();
    test_cancelled_first();
    DRIVE_UNTIL(sched.live == 0, 1000);
    tap_ok(sched.live == 0 && EG(exception) == NULL && ta_turn_empty(&queue),
           "every coroutine finished, nothing pending, the queue empty");
    ta_sched_destroy(&sched);
    ta_sched_current = NULL;
}

static const zend_function_entry all_functions[] = {
    ZEND_FE(turn_test_runner, ai_void)
    ZEND_FE(turn_test_coro, ai_coro)
    ZEND_FE(turn_test_cancelled_first, ai_void)
    ZEND_FE_END
};

int main(int argc, char **argv)
{
    harness_functions = all_functions;
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
