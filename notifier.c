#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "notifier.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return errno;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return errno;
    return 0;
}

int ta_notifier_init(ta_notifier *n, ta_notifier_kind kind)
{
    n->rfd = n->wfd = -1;
#ifdef __linux__
    if (kind != TA_NOTIFIER_PIPE) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) return errno;
        n->rfd = n->wfd = fd;
        n->kind = TA_NOTIFIER_EVENTFD;
        return 0;
    }
#else
    if (kind == TA_NOTIFIER_EVENTFD) return ENOSYS;
#endif
    int p[2], rc;
    if (pipe(p) < 0) return errno;
    if ((rc = set_flags(p[0])) || (rc = set_flags(p[1]))) {
        close(p[0]);
        close(p[1]);
        return rc;
    }
    n->rfd = p[0];
    n->wfd = p[1];
    n->kind = TA_NOTIFIER_PIPE;
    return 0;
}

void ta_notifier_destroy(ta_notifier *n)
{
    if (n->rfd >= 0) close(n->rfd);
    if (n->wfd >= 0 && n->wfd != n->rfd) close(n->wfd);
    n->rfd = n->wfd = -1;
}

int ta_notifier_signal(ta_notifier *n)
{
    ssize_t w;
    if (n->kind == TA_NOTIFIER_EVENTFD) {
        uint64_t one = 1;
        do w = write(n->wfd, &one, sizeof one); while (w < 0 && errno == EINTR);
    } else {
        char b = 1;
        do w = write(n->wfd, &b, 1); while (w < 0 && errno == EINTR);
    }
    /* A full pipe or a saturated counter still leaves the reader woken. */
    if (w < 0 && errno != EAGAIN) return errno;
    return 0;
}

int ta_notifier_drain(ta_notifier *n)
{
    int any = 0;
    if (n->kind == TA_NOTIFIER_EVENTFD) {
        uint64_t v;
        ssize_t r;
        do r = read(n->rfd, &v, sizeof v); while (r < 0 && errno == EINTR);
        return r == (ssize_t)sizeof v;
    }
    char buf[256];
    for (;;) {
        ssize_t r = read(n->rfd, buf, sizeof buf);
        if (r > 0) { any = 1; if ((size_t)r < sizeof buf) break; continue; }
        if (r < 0 && errno == EINTR) continue;
        break;
    }
    return any;
}

int ta_notifier_wait(ta_notifier *n, int timeout_ms, int watch_fd,
                     short watch_events, short *watch_revents)
{
    struct pollfd p[2];
    nfds_t cnt = 1;
    p[0].fd = n->rfd;
    p[0].events = POLLIN;
    p[0].revents = 0;
    if (watch_fd >= 0) {
        p[1].fd = watch_fd;
        p[1].events = watch_events;
        p[1].revents = 0;
        cnt = 2;
    }
    if (watch_revents) *watch_revents = 0;
    int rc;
    do rc = poll(p, cnt, timeout_ms); while (rc < 0 && errno == EINTR);
    if (rc < 0) return -1;
    if (cnt == 2 && watch_revents) *watch_revents = p[1].revents;
    if (p[0].revents & POLLIN) {
        ta_notifier_drain(n);
        return 1;
    }
    return 0;
}
