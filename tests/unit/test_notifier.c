/* Unit tests for notifier.c: both eventfd and pipe kinds, same contract. */
#define _GNU_SOURCE
#include "tap.h"
#include "../../notifier.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TESTS_PER_KIND 27

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0 || errno != EBADF; }

struct waker {
    ta_notifier *n;
    int delay_ms;
    double signalled_at;
    int rc;
};

static void *waker_main(void *arg)
{
    struct waker *w = arg;
    sleep_ms(w->delay_ms);
    w->signalled_at = now_ms();
    w->rc = ta_notifier_signal(w->n);
    return NULL;
}

static void test_kind(ta_notifier_kind kind, const char *name)
{
    ta_notifier n;
    short rev;
    double t0, dt;

    tap_is_int(ta_notifier_init(&n, kind), 0, "%s: init succeeds", name);
    tap_is_int(n.kind, kind, "%s: kind is the one asked for", name);
    if (kind == TA_NOTIFIER_EVENTFD)
        tap_ok(n.rfd >= 0 && n.wfd == n.rfd, "%s: one fd for both ends", name);
    else
        tap_ok(n.rfd >= 0 && n.wfd >= 0 && n.wfd != n.rfd, "%s: separate read and write fds", name);
    tap_ok((fcntl(n.rfd, F_GETFL) & O_NONBLOCK) && (fcntl(n.wfd, F_GETFL) & O_NONBLOCK),
           "%s: fds are non-blocking", name);
    tap_ok((fcntl(n.rfd, F_GETFD) & FD_CLOEXEC) && (fcntl(n.wfd, F_GETFD) & FD_CLOEXEC),
           "%s: fds are close-on-exec (not leaked to CGI children)", name);
    tap_is_int(ta_notifier_fd(&n), n.rfd, "%s: ta_notifier_fd is the read end", name);

    /* Basic signal/drain. */
    tap_is_int(ta_notifier_drain(&n), 0, "%s: drain with nothing pending returns 0", name);
    tap_is_int(ta_notifier_signal(&n), 0, "%s: signal returns 0", name);
    tap_is_int(ta_notifier_drain(&n), 1, "%s: drain after signal returns 1", name);
    tap_is_int(ta_notifier_drain(&n), 0, "%s: second drain returns 0", name);

    /* Coalescing. */
    int bad = 0;
    for (int i = 0; i < 1000; i++) bad |= ta_notifier_signal(&n);
    tap_is_int(bad, 0, "%s: 1000 signals all succeed", name);
    tap_is_int(ta_notifier_drain(&n), 1, "%s: 1000 signals coalesce into one drain", name);
    tap_is_int(ta_notifier_drain(&n), 0, "%s: nothing left after that drain", name);

    /* A signal sent before the wait is not lost, and wait drains it. */
    ta_notifier_signal(&n);
    tap_is_int(ta_notifier_wait(&n, 0, -1, 0, NULL), 1, "%s: signal before wait is seen by wait", name);
    tap_is_int(ta_notifier_drain(&n), 0, "%s: wait drained the signal", name);

    /* Timeout. */
    t0 = now_ms();
    int rc = ta_notifier_wait(&n, 50, -1, 0, NULL);
    dt = now_ms() - t0;
    tap_ok(rc == 0 && dt >= 45 && dt < 1000, "%s: wait times out with 0 after ~50 ms (rc %d, %.1f ms)",
           name, rc, dt);

    /* Cross-thread wake-up of a thread blocked in wait(-1). */
    struct waker w = { &n, 50, 0, -1 };
    pthread_t th;
    pthread_create(&th, NULL, waker_main, &w);
    rc = ta_notifier_wait(&n, -1, -1, 0, NULL);
    double woke = now_ms();
    pthread_join(th, NULL);
    tap_ok(rc == 1 && w.rc == 0, "%s: signal from another thread wakes wait(-1) with 1", name);
    tap_ok(woke - w.signalled_at < 250, "%s: wake-up is prompt (%.3f ms after signal)",
           name, woke - w.signalled_at);

    /* Watched fd: peer closed the socket. */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    t0 = now_ms();
    rc = ta_notifier_wait(&n, 2000, sv[0], POLLIN | POLLRDHUP, &rev);
    dt = now_ms() - t0;
    tap_ok(rc == 0 && (rev & (POLLRDHUP | POLLHUP)) && dt < 1000,
           "%s: watched fd whose peer closed reports hang-up (rc %d, revents 0x%x, %.1f ms)",
           name, rc, (unsigned)rev, dt);

    /* Watched fd quiet, signal pending: 1 and revents cleared. */
    int sp[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    rev = (short)0x7fff;
    ta_notifier_signal(&n);
    rc = ta_notifier_wait(&n, 1000, sp[0], POLLIN | POLLRDHUP, &rev);
    tap_ok(rc == 1 && rev == 0, "%s: signal with a quiet watched fd returns 1, revents 0 (0x%x)",
           name, (unsigned)rev);
    /* Watched fd readable: POLLIN reported. */
    if (write(sp[1], "x", 1) != 1) tap_diag("write to socketpair failed");
    rc = ta_notifier_wait(&n, 1000, sp[0], POLLIN, &rev);
    tap_ok(rc == 0 && (rev & POLLIN), "%s: readable watched fd reports POLLIN (0x%x)", name, (unsigned)rev);
    close(sp[0]);
    close(sp[1]);
    close(sv[0]);

    /* Saturation: a full pipe (or eventfd counter) must not block or fail. */
    if (kind == TA_NOTIFIER_EVENTFD) {
        uint64_t max = UINT64_MAX - 1;   /* the largest value eventfd holds */
        if (write(n.wfd, &max, sizeof max) != (ssize_t)sizeof max) tap_diag("priming eventfd failed");
    }
    bad = 0;
    t0 = now_ms();
    for (int i = 0; i < 200000; i++) bad |= ta_notifier_signal(&n);
    dt = now_ms() - t0;
    tap_ok(bad == 0 && dt < 5000, "%s: 200000 signals on a full channel neither block nor fail (%.0f ms)",
           name, dt);
    uint64_t one = 1;   /* 8 bytes suit both kinds: eventfd needs exactly 8 */
    ssize_t wr = write(n.wfd, &one, sizeof one);
    tap_ok(wr < 0 && errno == EAGAIN, "%s: the channel really was full (raw write gets EAGAIN)", name);
    tap_is_int(ta_notifier_drain(&n), 1, "%s: full channel drains with 1", name);
    tap_is_int(ta_notifier_drain(&n), 0, "%s: full channel is empty after one drain", name);

    /* Destroy closes both ends and is idempotent. */
    int rfd = n.rfd, wfd = n.wfd;
    ta_notifier_destroy(&n);
    tap_ok(!fd_is_open(rfd) && !fd_is_open(wfd) && n.rfd == -1 && n.wfd == -1,
           "%s: destroy closes the fds and resets them to -1", name);
    ta_notifier_destroy(&n);
    tap_ok(1, "%s: second destroy is harmless", name);
}

int main(void)
{
    tap_plan(2 * TESTS_PER_KIND + 1);
    test_kind(TA_NOTIFIER_EVENTFD, "eventfd");
    test_kind(TA_NOTIFIER_PIPE, "pipe");

    ta_notifier n;
    int rc = ta_notifier_init(&n, TA_NOTIFIER_AUTO);
    tap_ok(rc == 0 && n.kind == TA_NOTIFIER_EVENTFD, "auto picks eventfd on Linux");
    if (rc == 0) ta_notifier_destroy(&n);
    return tap_done();
}
