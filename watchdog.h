/* The watchdog: one thread per Apache child that looks at every PHP thread
 * each TA_WATCH_TICK_MS. Code that runs without suspending cannot be seen
 * by the PHP thread's own timers, so the watchdog raises the thread's VM
 * interrupt: when one coroutine run has lasted a tick (its output goes to
 * Apache), when it lasted TrueAsyncSlowlogTimeout (the slow log), and when
 * a request's deadline has passed (TrueAsyncRequestTimeout; it also wakes
 * an idle loop). It copies each thread's state and queue into the status
 * figures too, and calls the pool's tick (TrueAsyncThreads MIN MAX: starts
 * and retires threads). No Zend, no httpd. */
#ifndef TA_WATCHDOG_H
#define TA_WATCHDOG_H

#include <stdint.h>

struct ta_mailbox;

/* Starts the watchdog over n mailboxes (they outlive it); after each look
 * at them it calls tick (if not NULL) on its own thread. 0 or errno. */
int ta_watchdog_start(struct ta_mailbox **boxes, int n, void (*tick)(uint64_t now_ms));
/* Stops and joins it (nothing if it never started). */
void ta_watchdog_stop(void);

#endif
