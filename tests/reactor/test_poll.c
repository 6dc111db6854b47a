/* Poll and socket events: readable, writable, disconnect, the eventfd
 * notifier pattern, two events on one descriptor, bad descriptors, an I/O error delivered as
 * Async\InputOutputException, dispose with callbacks attached. */
#include "harness.h"

#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static async_poll_event triggered(rec *r)
{
    return r->result ? *(async_poll_event *) r->result : 0;
}

static void test_pipe_readable(void)
{
    int p[2];
    if (pipe(p) != 0) { tap_ok(0, "pipe"); return; }
    rec r = {0};
    zend_async_poll_event_t *pe = ZEND_ASYNC_NEW_POLL_EVENT(p[0], ZEND_SOCKET_INVALID, ASYNC_READABLE);
    zend_async_event_t *e = &pe->base;
    tap_ok(pe && !pe->is_socket && pe->file == p[0] && pe->events == ASYNC_READABLE,
           "a poll event on a pipe's read end records the descriptor");
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    RUN_FOR(20);
    tap_is_int(r.calls, 0, "nothing to read: no notification");
    if (write(p[1], "x", 1) != 1) tap_diag("write failed");
    RUN_UNTIL(r.calls > 0, 3000);
    tap_ok(r.calls >= 1 && (triggered(&r) & ASYNC_READABLE) && r.result == &pe->triggered_events,
           "written to: readable, result points at triggered_events");
    char c;
    if (read(p[0], &c, 1) != 1) tap_diag("read failed");
    ZEND_ASYNC_EVENT_RELEASE(e);
    close(p[0]);
    close(p[1]);
}

static void test_socket(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { tap_ok(0, "socketpair"); return; }
    rec w = {0};
    zend_async_poll_event_t *pe = ZEND_ASYNC_NEW_SOCKET_EVENT(sv[0], ASYNC_WRITABLE);
    zend_async_event_t *e = &pe->base;
    e->add_callback(e, rec_callback(&w));
    e->start(e);
    RUN_UNTIL(w.calls > 0, 3000);
    tap_ok(pe->is_socket && pe->socket == sv[0] && (triggered(&w) & ASYNC_WRITABLE),
           "a socket event on an idle socket reports writable");
    ZEND_ASYNC_EVENT_RELEASE(e);

    rec d = {0};
    pe = ZEND_ASYNC_NEW_POLL_EVENT(ZEND_FD_INVALID, sv[0], ASYNC_READABLE | ASYNC_DISCONNECT);
    e = &pe->base;
    tap_ok(pe->is_socket && pe->socket == sv[0], "a poll event given only a socket polls the socket");
    e->add_callback(e, rec_callback(&d));
    e->start(e);
    close(sv[1]);
    RUN_UNTIL(d.calls > 0, 3000);
    tap_ok(triggered(&d) & ASYNC_DISCONNECT, "the peer closing shows as disconnect (events 0x%x)", triggered(&d));
    ZEND_ASYNC_EVENT_RELEASE(e);
    close(sv[0]);
}

static void test_notifier(void)
{
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    rec r = {0};
    zend_async_event_t *e = &ZEND_ASYNC_NEW_POLL_EVENT(efd, ZEND_SOCKET_INVALID, ASYNC_READABLE)->base;
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    uint64_t one = 1, got = 0;
    for (int i = 0; i < 2; i++) {
        if (write(efd, &one, sizeof one) != sizeof one) tap_diag("eventfd write failed");
        RUN_UNTIL(r.calls > i, 3000);
        if (read(efd, &got, sizeof got) != sizeof got) tap_diag("eventfd read failed");
    }
    tap_ok(r.calls == 2 && got == 1, "an eventfd notifier wakes the loop once per signal, drained each time");
    ZEND_ASYNC_EVENT_RELEASE(e);
    close(efd);
}

/* Starts a poll event on fd; returns the exception start threw (or NULL). */
static zend_object *start_error(int fd, async_poll_event events)
{
    zend_async_poll_event_t *pe = ZEND_ASYNC_NEW_POLL_EVENT(fd, ZEND_SOCKET_INVALID, events);
    zend_object *ex = take_exception();
    if (ex) return ex;
    uint32_t base = ZEND_ASYNC_ACTIVE_EVENT_COUNT;
    pe->base.start(&pe->base);
    ex = take_exception();
    if (!ex && pe->base.loop_ref_count > 0) pe->base.stop(&pe->base);
    if (ex && (pe->base.loop_ref_count != 0 || ZEND_ASYNC_ACTIVE_EVENT_COUNT != base)) tap_diag("a failed start left the event started");
    ZEND_ASYNC_EVENT_RELEASE(&pe->base);
    return ex;
}

static void test_bad_descriptor(void)
{
    int fd = open("/dev/null", O_RDONLY);
    close(fd);  /* now certainly not open */
    zend_object *ex = start_error(fd, ASYNC_READABLE);
    tap_ok(is_instance(ex, zend_ce_error) && contains(exception_message(ex), "bad file descriptor"),
           "polling a closed descriptor throws Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);

    zend_async_poll_event_t *pe = ZEND_ASYNC_NEW_SOCKET_EVENT(-1, ASYNC_READABLE);
    ex = take_exception();
    tap_ok(pe == NULL && is_instance(ex, zend_ce_error), "a socket event on -1 throws Error: %s",
           ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);

    /* epoll refuses regular files. */
    char path[] = "/tmp/ta_reactor_pollXXXXXX";
    fd = mkstemp(path);
    ex = start_error(fd, ASYNC_READABLE);
    tap_ok(is_instance(ex, zend_ce_error) && contains(exception_message(ex), "not permitted"),
           "polling a regular file throws Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
    close(fd);
    unlink(path);
    tap_ok(EG(exception) == NULL, "no exception is left pending");
}

/* Two events on one descriptor (a coroutine reading a socket while another
 * writes to it): both work, each sees only what it asked for, stopping one
 * leaves the other, and the descriptor's blocking mode is not touched. */
static void test_shared_descriptor(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { tap_ok(0, "socketpair"); return; }
    rec rd = {0}, wr = {0};
    zend_async_event_t *r = &ZEND_ASYNC_NEW_SOCKET_EVENT(sv[0], ASYNC_READABLE)->base;
    zend_async_event_t *w = &ZEND_ASYNC_NEW_SOCKET_EVENT(sv[0], ASYNC_WRITABLE)->base;
    r->add_callback(r, rec_callback(&rd));
    w->add_callback(w, rec_callback(&wr));
    r->start(r);
    w->start(w);
    tap_ok(EG(exception) == NULL && r->loop_ref_count == 1 && w->loop_ref_count == 1,
           "two events start on one descriptor");
    RUN_UNTIL(wr.calls > 0, 3000);
    tap_ok(wr.calls > 0 && rd.calls == 0 && triggered(&wr) == ASYNC_WRITABLE,
           "nothing to read: only the writable one fires (events 0x%x)", triggered(&wr));
    w->stop(w);
    if (write(sv[1], "x", 1) != 1) tap_diag("write failed");
    RUN_UNTIL(rd.calls > 0, 3000);
    tap_ok(rd.calls > 0 && triggered(&rd) == ASYNC_READABLE, "after the other stopped, the reader still fires");
    int fl = fcntl(sv[0], F_GETFL);
    tap_ok(fl >= 0 && !(fl & O_NONBLOCK), "the descriptor is still blocking");
    ZEND_ASYNC_EVENT_RELEASE(r);
    ZEND_ASYNC_EVENT_RELEASE(w);
    close(sv[0]);
    close(sv[1]);
}

static uint64_t thread_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000
         + (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* A descriptor closed while watched, its file kept open by a copy: the
 * stale registration must not keep the loop busy once it fires. */
static void test_closed_while_watched(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { tap_ok(0, "socketpair"); return; }
    int copy = dup(sv[0]);
    rec r = {0};
    zend_async_event_t *e = &ZEND_ASYNC_NEW_SOCKET_EVENT(sv[0], ASYNC_READABLE)->base;
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    close(sv[0]);
    e->stop(e);
    ZEND_ASYNC_EVENT_RELEASE(e);
    if (write(sv[1], "x", 1) != 1) tap_diag("write failed");
    RUN_FOR(20);    /* the stale registration fires here, once */
    uint64_t cpu = thread_cpu_ms();
    RUN_FOR(200);
    cpu = thread_cpu_ms() - cpu;
    tap_ok(cpu < 100 && r.calls == 0, "a descriptor closed while watched does not keep the loop busy "
           "(%llu ms of CPU in 200 ms)", (unsigned long long) cpu);
    /* and the set still works */
    int p[2];
    if (pipe(p) != 0) { tap_ok(0, "pipe"); return; }
    rec ok = {0};
    zend_async_event_t *e2 = &ZEND_ASYNC_NEW_POLL_EVENT(p[0], ZEND_SOCKET_INVALID, ASYNC_READABLE)->base;
    e2->add_callback(e2, rec_callback(&ok));
    e2->start(e2);
    if (write(p[1], "y", 1) != 1) tap_diag("write failed");
    RUN_UNTIL(ok.calls > 0, 3000);
    tap_ok(ok.calls > 0, "polling goes on after that");
    ZEND_ASYNC_EVENT_RELEASE(e2);
    close(p[0]); close(p[1]);
    close(copy);
    close(sv[1]);
}

static void test_io_error(void)
{
    int p[2];
    if (pipe(p) != 0) { tap_ok(0, "pipe"); return; }
    /* A write end whose reader is gone reports only POLLERR. */
    close(p[0]);
    rec r = {0};
    uint32_t base = ZEND_ASYNC_ACTIVE_EVENT_COUNT;
    zend_async_event_t *e = &ZEND_ASYNC_NEW_POLL_EVENT(p[1], ZEND_SOCKET_INVALID, ASYNC_READABLE)->base;
    e->add_callback(e, rec_callback(&r));
    e->start(e);
    RUN_UNTIL(r.calls > 0, 3000);
    tap_ok(r.calls == 1 && is_instance(r.exception, ta_ce_input_output_exception) && r.result == NULL
           && exception_code(r.exception) < 0 && EG(exception) == NULL,
           "an error on the descriptor arrives as InputOutputException: %s",
           r.exception ? exception_message(r.exception) : "(none)");
    tap_ok(e->loop_ref_count == 0 && ZEND_ASYNC_ACTIVE_EVENT_COUNT == base, "and the event is stopped");
    rec_clear(&r);
    ZEND_ASYNC_EVENT_RELEASE(e);
    close(p[1]);
}

static void test_dispose_attached(void)
{
    int p[2];
    if (pipe(p) != 0) { tap_ok(0, "pipe"); return; }
    rec a = {0}, b = {0};
    zend_async_event_t *e = &ZEND_ASYNC_NEW_POLL_EVENT(p[0], ZEND_SOCKET_INVALID, ASYNC_READABLE)->base;
    e->add_callback(e, rec_callback(&a));
    e->add_callback(e, rec_callback(&b));
    e->start(e);
    ZEND_ASYNC_EVENT_RELEASE(e);
    if (write(p[1], "x", 1) != 1) tap_diag("write failed");
    RUN_FOR(20);
    tap_ok(a.disposed == 1 && b.disposed == 1 && a.calls == 0 && b.calls == 0,
           "disposing a started poll event with callbacks attached frees them; nothing fires after");
    close(p[0]);
    close(p[1]);
}

static void body(void)
{
    tap_plan(20);
    test_pipe_readable();
    test_socket();
    test_notifier();
    test_shared_descriptor();
    test_closed_while_watched();
    test_bad_descriptor();
    test_io_error();
    test_dispose_attached();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
