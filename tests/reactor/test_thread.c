/* Thread events: the entry runs on a pool thread and its return value comes
 * back on the loop thread; several at once; a NULL entry; dispose with
 * callbacks attached while the entry is still running. */
#include "harness.h"

#include <pthread.h>
#include <unistd.h>

typedef struct {
    long in, out;
    pthread_t ran_on;
    int release;                /* atomic: the blocking entry may return */
    int finished;               /* atomic */
} job;

static void *square(void *arg)
{
    job *j = arg;
    j->ran_on = pthread_self();
    j->out = j->in * j->in;
    return &j->out;
}

static void *blocking(void *arg)
{
    job *j = arg;
    while (!__atomic_load_n(&j->release, __ATOMIC_ACQUIRE)) usleep(1000);
    __atomic_store_n(&j->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

static pthread_t notified_on;

static void note_thread(rec *r, zend_async_event_t *e, void *result, zend_object *ex)
{
    (void) r; (void) e; (void) result; (void) ex;
    notified_on = pthread_self();
}

static void test_completion(void)
{
    rec r = {0};
    r.hook = note_thread;
    job j = { .in = 12 };
    zend_async_thread_event_t *t = ZEND_ASYNC_NEW_THREAD_EVENT(square, &j);
    zend_async_event_t *e = &t->base;
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    RUN_UNTIL(r.calls > 0, 5000);
    tap_ok(r.calls == 1 && r.result == &j.out && j.out == 144 && t->result == &j.out && r.exception == NULL,
           "the entry's return value is the result (12 squared = %ld)", j.out);
    tap_ok(r.calls == 1 && !pthread_equal(j.ran_on, pthread_self()) && pthread_equal(notified_on, pthread_self()),
           "the entry ran on another thread, the callback on the loop's");
    tap_ok(ZEND_ASYNC_EVENT_IS_CLOSED(e) && e->loop_ref_count == 0, "the event is closed after completion");
    ZEND_ASYNC_EVENT_RELEASE(e);
}

static void test_many(void)
{
    enum { N = 6 };
    rec r[N] = {{0}};
    job j[N];
    zend_async_event_t *e[N];
    for (int i = 0; i < N; i++) {
        j[i] = (job) { .in = i + 1 };
        e[i] = &ZEND_ASYNC_NEW_THREAD_EVENT(square, &j[i])->base;
        e[i]->add_callback(e[i], rec_callback(&r[i]));
        e[i]->start(e[i]);
    }
    int done = 0;
    RUN_UNTIL((done = r[0].calls + r[1].calls + r[2].calls + r[3].calls + r[4].calls + r[5].calls) == N, 5000);
    bool right = true;
    for (int i = 0; i < N; i++) right = right && r[i].calls == 1 && *(long *) r[i].result == (long) (i + 1) * (i + 1);
    tap_ok(done == N && right, "six events on the pool all complete with their own results");
    for (int i = 0; i < N; i++) ZEND_ASYNC_EVENT_RELEASE(e[i]);
}

static void test_null_entry(void)
{
    zend_async_thread_event_t *t = ZEND_ASYNC_NEW_THREAD_EVENT(NULL, NULL);
    zend_object *ex = take_exception();
    tap_ok(t == NULL && is_instance(ex, zend_ce_error), "a NULL entry throws Error: %s",
           ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
}

static void test_dispose_running(void)
{
    rec a = {0}, b = {0};
    job j = {0};
    zend_async_event_t *e = &ZEND_ASYNC_NEW_THREAD_EVENT(blocking, &j)->base;
    e->add_callback(e, rec_callback(&a));
    e->add_callback(e, rec_callback(&b));
    e->start(e);
    RUN_FOR(10);
    ZEND_ASYNC_EVENT_RELEASE(e);
    tap_ok(a.disposed == 1 && b.disposed == 1, "disposing while the entry runs frees the callbacks at once");
    __atomic_store_n(&j.release, 1, __ATOMIC_RELEASE);
    /* The pool hands the request back through the loop; then it is freed. */
    RUN_UNTIL(__atomic_load_n(&j.finished, __ATOMIC_ACQUIRE), 5000);
    RUN_FOR(20);
    tap_ok(j.finished && a.calls == 0 && b.calls == 0, "the entry finishes unreported; its memory goes afterwards");
}

static void body(void)
{
    tap_plan(7);
    test_completion();
    test_many();
    test_null_entry();
    test_dispose_running();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
