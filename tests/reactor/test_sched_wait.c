/* The scheduler's wait on reactor events (ta_coro_wait_events), with
 * coroutines on real Zend fibers: a coroutine sleeps until its event fires,
 * a stray wake-up does not end the wait, the first of two events ends it,
 * a cancellation (during or before the wait) wakes it with the events
 * stopped, and every way out leaves no callback on the events; a refused
 * start and a failed event are told apart; outside a coroutine it refuses.
 * Then the descriptor waits built on it (coro_wait.c). */
#include "harness.h"
#include "scheduler.h"
#include "coro_wait.h"

#include <netdb.h>
#include <unistd.h>

static ta_sched sched;

/* What one coroutine's wait did, seen from inside it. */
typedef struct {
    int rc;
    ta_event_outcome out[2];
    zend_object *exception;     /* pending after the wait, taken */
    uint64_t ms;                /* how long the wait took */
    uint32_t callbacks_left;    /* on its events afterwards */
    uint32_t loop_refs;         /* starts not undone by a stop, afterwards */
    bool returned;
} probe;

typedef void (*coro_body_fn)(probe *p);
static coro_body_fn bodies[8];
static probe probes[8];
static int pipe_fds[2];

/* The runner fibers' function, as Async\Coroutine::runner is in the module. */
static ZEND_FUNCTION(sched_test_runner)
{
    ZEND_PARSE_PARAMETERS_NONE();
    (void) return_value;
    sched.starting_runner = 0;
    ta_sched_runner_main();
}

/* A coroutine: runs bodies[$i] with probes[$i]. */
static ZEND_FUNCTION(sched_test_coro)
{
    zend_long i;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(i)
    ZEND_PARSE_PARAMETERS_END();
    (void) return_value;
    uint64_t t0 = now_ms();
    bodies[i](&probes[i]);
    probes[i].ms = now_ms() - t0;
    probes[i].exception = take_exception();
    probes[i].returned = true;
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_void, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_coro, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, i, IS_LONG, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry sched_test_functions[] = {
    ZEND_FE(sched_test_runner, ai_void)
    ZEND_FE(sched_test_coro, ai_coro)
    ZEND_FE_END
};

static ta_coro *spawn(int i, coro_body_fn body)
{
    zval fn, arg;
    bodies[i] = body;
    memset(&probes[i], 0, sizeof probes[i]);
    ZVAL_STRING(&fn, "sched_test_coro");
    ZVAL_LONG(&arg, i);
    ta_coro *co = ta_sched_spawn(&sched, &fn, 1, &arg, NULL, NULL);
    zval_ptr_dtor(&fn);
    return co;
}

/* Runs the ready coroutines and the loop until cond holds or ms pass. */
#define DRIVE_UNTIL(cond, ms) __extension__ ({                              \
        uint64_t dl_ = now_ms() + (ms);                                     \
        while (!(cond) && now_ms() < dl_) {                                 \
            ta_sched_run_ready(&sched);                                     \
            if (!(cond) && !ta_sched_has_ready(&sched)) harness_tick(dl_);  \
        }                                                                   \
        (cond);                                                             \
    })

static zend_async_event_t *timer(zend_ulong ms)
{
    return &ZEND_ASYNC_NEW_TIMER_EVENT(ms, false)->base;
}

static void note_after(probe *p, zend_async_event_t *const *evs, int n)
{
    for (int i = 0; i < n; i++) {
        p->callbacks_left += evs[i]->callbacks.length;
        p->loop_refs += evs[i]->loop_ref_count;
    }
}

/* One event, waited for and released. */
static void wait_one(probe *p, zend_async_event_t *e)
{
    p->rc = ta_coro_wait_event(e);
    note_after(p, &e, 1);
    ZEND_ASYNC_EVENT_RELEASE(e);
}

static void body_timer_30(probe *p) { wait_one(p, timer(30)); }
static void body_timer_10s(probe *p) { wait_one(p, timer(10000)); }

static void body_two_timers(probe *p)
{
    zend_async_event_t *evs[2] = { timer(10000), timer(20) };
    p->rc = ta_coro_wait_events(evs, 2, p->out);
    note_after(p, evs, 2);
    for (int i = 0; i < 2; i++) ZEND_ASYNC_EVENT_RELEASE(evs[i]);
}

static void body_cancelled_first(probe *p)
{
    ta_coro_cancel(ta_coro_current(), NULL, "cancelled before it waited");
    wait_one(p, timer(10000));
}

/* epoll refuses regular files: the start throws. */
static void body_refused(probe *p)
{
    char path[] = "/tmp/ta_sched_waitXXXXXX";
    int fd = mkstemp(path);
    wait_one(p, &ZEND_ASYNC_NEW_POLL_EVENT(fd, ZEND_SOCKET_INVALID, ASYNC_READABLE)->base);
    close(fd);
    unlink(path);
}

static void body_failed(probe *p)
{
    struct addrinfo hints = {0};
    hints.ai_socktype = SOCK_STREAM;
    wait_one(p, &ZEND_ASYNC_GETADDRINFO("no-such-host.invalid", NULL, &hints)->base);
}

static bool waiting(ta_coro *co) { return co->state == TA_CORO_SUSPENDED; }

static void test_fires(void)
{
    probe *p = &probes[0];
    spawn(0, body_timer_30);
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(p->returned && p->rc == TA_WAIT_OK && p->ms >= 28 && !p->exception,
           "a coroutine waits for a 30 ms timer and wakes when it fires (%llu ms)", (unsigned long long) p->ms);
    tap_ok(p->callbacks_left == 0 && p->loop_refs == 0, "the wait leaves no callback on the event");
}

static void test_stray_wake(void)
{
    probe *p = &probes[0];
    ta_coro *co = spawn(0, body_timer_30);
    DRIVE_UNTIL(waiting(co), 1000);
    ta_coro_wake(co);
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(p->returned && p->rc == TA_WAIT_OK && p->ms >= 28,
           "a wake-up that is not the event's does not end the wait (%llu ms)", (unsigned long long) p->ms);
}

static void test_first_of_two(void)
{
    probe *p = &probes[0];
    spawn(0, body_two_timers);
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(p->returned && p->rc == TA_WAIT_OK && !p->out[0].fired && p->out[1].fired && p->ms < 5000,
           "of a 10 s and a 20 ms timer, the 20 ms one ends the wait, and only it fired");
    tap_ok(p->callbacks_left == 0 && p->loop_refs == 0, "both events are stopped and without our callbacks");
}

static void test_cancel(void)
{
    probe *p = &probes[0];
    ta_coro *co = spawn(0, body_timer_10s);
    DRIVE_UNTIL(waiting(co), 1000);
    ta_coro_cancel(co, NULL, "cancelled by the test");
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(p->returned && p->rc == TA_WAIT_THROWN && p->ms < 5000
           && is_instance(p->exception, ta_ce_async_cancellation)
           && strcmp(exception_message(p->exception), "cancelled by the test") == 0,
           "a cancelled wait returns TA_WAIT_THROWN with the CancellationError pending");
    tap_ok(p->callbacks_left == 0 && p->loop_refs == 0, "the cancelled wait stopped its timer and left no callback");
    if (p->exception) OBJ_RELEASE(p->exception);

    p = &probes[1];
    spawn(1, body_cancelled_first);
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(p->returned && p->rc == TA_WAIT_THROWN && p->ms < 5000
           && is_instance(p->exception, ta_ce_async_cancellation) && p->callbacks_left == 0 && p->loop_refs == 0,
           "a coroutine cancelled before it waits does not sleep, and its event is left stopped and clean");
    if (p->exception) OBJ_RELEASE(p->exception);
}

/* Async\suspend()'s plain yield by a cancelled coroutine: it queues
 * itself, then its wait throws at once. */
static void body_cancelled_yield(probe *p)
{
    ta_coro *co = ta_coro_current();
    ta_coro_cancel(co, NULL, "cancelled before it yielded");
    co->state = TA_CORO_SUSPENDED;
    ta_coro_wake(co);
    p->rc = ta_coro_wait(NULL, NULL) == SUCCESS ? TA_WAIT_OK : TA_WAIT_THROWN;
    p->callbacks_left = ta_sched_has_ready(&sched);
}

static void test_cancelled_yield(void)
{
    probe *p = &probes[2];
    spawn(2, body_cancelled_yield);
    DRIVE_UNTIL(p->returned, 2000);
    tap_ok(p->returned && p->rc == TA_WAIT_THROWN && is_instance(p->exception, ta_ce_async_cancellation)
           && p->callbacks_left == 0 && !ta_sched_has_ready(&sched),
           "a cancelled coroutine's plain yield throws and leaves it off the ready queue (it was freed from there)");
    if (p->exception) OBJ_RELEASE(p->exception);
}

static void test_refused_and_failed(void)
{
    probe *p = &probes[0];
    spawn(0, body_refused);
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(p->returned && p->rc == TA_WAIT_REFUSED && is_instance(p->exception, zend_ce_error)
           && p->callbacks_left == 0,
           "an event that will not start: TA_WAIT_REFUSED, its Error pending, no callback left: %s",
           p->exception ? exception_message(p->exception) : "(none)");
    if (p->exception) OBJ_RELEASE(p->exception);

    p = &probes[1];
    spawn(1, body_failed);
    DRIVE_UNTIL(p->returned, 10000);
    tap_ok(p->returned && p->rc == TA_WAIT_FAILED && !p->exception && p->callbacks_left == 0,
           "an event that fires with an exception (an unknown host): TA_WAIT_FAILED, nothing pending");
}

static void test_outside_coroutine(void)
{
    zend_async_event_t *e = timer(10);
    int rc = ta_coro_wait_event(e);
    zend_object *ex = take_exception();
    tap_ok(rc == TA_WAIT_REFUSED && is_instance(ex, zend_ce_error) && e->callbacks.length == 0 && e->loop_ref_count == 0,
           "outside a coroutine the wait refuses with an Error and touches nothing");
    if (ex) OBJ_RELEASE(ex);
    ZEND_ASYNC_EVENT_RELEASE(e);
}

/* ---- the descriptor waits -------------------------------------------------------- */

static void body_fd_readable(probe *p)
{
    struct timeval tv = { 5, 0 };
    p->rc = ta_wait_fd(pipe_fds[0], ASYNC_READABLE, &tv);
}

static void body_fd_timeout(probe *p)
{
    struct timeval tv = { 0, 30000 };
    p->rc = ta_wait_fd(pipe_fds[0], ASYNC_READABLE, &tv);
}

static void test_fds(void)
{
    if (pipe(pipe_fds) != 0) { tap_ok(0, "pipe"); tap_ok(0, "pipe"); return; }
    probe *p = &probes[0];
    ta_coro *co = spawn(0, body_fd_readable);
    DRIVE_UNTIL(waiting(co), 1000);
    ssize_t n = write(pipe_fds[1], "x", 1);
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(n == 1 && p->returned && p->rc == 1 && p->ms < 5000, "ta_wait_fd: 1 when the pipe turns readable");
    char c;
    n = read(pipe_fds[0], &c, 1);
    (void) n;
    p = &probes[1];
    spawn(1, body_fd_timeout);
    DRIVE_UNTIL(p->returned, 5000);
    tap_ok(p->returned && p->rc == 0 && p->ms >= 28, "ta_wait_fd: 0 when its 30 ms pass first (%llu ms)",
           (unsigned long long) p->ms);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static void body(void)
{
    tap_plan(15);
    ta_sched_set_runner_function(zend_hash_str_find_ptr(CG(function_table), ZEND_STRL("sched_test_runner")));
    ta_sched_init(&sched, ta_reactor_loop());
    test_fires();
    test_stray_wake();
    test_first_of_two();
    test_cancel();
    test_cancelled_yield();
    test_refused_and_failed();
    test_outside_coroutine();
    test_fds();
    DRIVE_UNTIL(sched.live == 0, 1000);
    tap_ok(sched.live == 0 && EG(exception) == NULL, "every coroutine finished, nothing pending");
    ta_sched_destroy(&sched);
    ta_sched_current = NULL;
}

int main(int argc, char **argv)
{
    harness_functions = sched_test_functions;
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
