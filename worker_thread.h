/* PHP threads, as the worker pool sees them: started on a mailbox, joined
 * at the end. Everything Zend is behind this header. */
#ifndef TA_WORKER_THREAD_H
#define TA_WORKER_THREAD_H

#include "worker_config.h"
#include <time.h>
#include "thread_mailbox.h"

typedef struct ta_php_thread ta_php_thread;

/* Process-wide: PHP's start-up in this process, once, before any thread
 * starts (0, or -1 with the reason logged); its shut-down after the last
 * thread was joined. */
int ta_threads_php_startup(void);
void ta_threads_php_shutdown(void);

/* Starts a PHP thread that boots cfg's script and takes its requests from
 * box (cfg and box outlive it). NULL with *err set on failure. */
ta_php_thread *ta_php_thread_start(const ta_worker_config *cfg, ta_mailbox *box, int *err);
/* Waits until `until` (CLOCK_REALTIME) for a thread whose mailbox was told
 * to stop, and frees it: 0, or ETIMEDOUT (it still runs, not freed). */
int ta_php_thread_join_until(ta_php_thread *t, const struct timespec *until);
/* Joins and frees a thread that has flagged its exit (it is leaving). */
void ta_php_thread_join(ta_php_thread *t);

#endif
