/* Cross-thread wake-ups: eventfd on Linux, a pipe elsewhere (or on request).
 * One side signals, the other polls ta_notifier_fd() for readability and
 * drains. Signals coalesce: many signals before a drain read as one. */
#ifndef TA_NOTIFIER_H
#define TA_NOTIFIER_H

typedef enum { TA_NOTIFIER_AUTO = 0, TA_NOTIFIER_EVENTFD, TA_NOTIFIER_PIPE } ta_notifier_kind;

typedef struct ta_notifier {
    int rfd;
    int wfd;                 /* same as rfd for eventfd */
    ta_notifier_kind kind;
} ta_notifier;

/* 0 on success, an errno value on failure. */
int ta_notifier_init(ta_notifier *n, ta_notifier_kind kind);
void ta_notifier_destroy(ta_notifier *n);
static inline int ta_notifier_fd(const ta_notifier *n) { return n->rfd; }
/* Safe from any thread; never blocks. 0 or errno. */
int ta_notifier_signal(ta_notifier *n);
/* Consumes pending signals without blocking: 1 if there were any, else 0. */
int ta_notifier_drain(ta_notifier *n);
/* Blocks until signalled or timeout_ms passes (-1: forever), then drains.
 * If watch_fd >= 0 it is polled too for watch_events; *watch_revents gets
 * what it reported. Returns 1 signalled, 0 timeout/only watch_fd, -1 error. */
int ta_notifier_wait(ta_notifier *n, int timeout_ms, int watch_fd,
                     short watch_events, short *watch_revents);

#endif
