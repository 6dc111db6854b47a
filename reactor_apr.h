/* The TrueAsync reactor backend on libuv: one loop per PHP thread.
 * (The file keeps the design card's name for the reactor backend; there is
 * no APR inside, so the PHP threads never touch Apache's pools. The event
 * families are reactor_<family>.c, behind the private reactor_event.h.) */
#ifndef TA_REACTOR_APR_H
#define TA_REACTOR_APR_H

#include "ta_async_api.h"
#include <uv.h>

/* Registers the 18 reactor slots as "mod_trueasync"; call once at module
 * start-up, before PHP threads start. False if another reactor is there. */
bool ta_reactor_register(void);

/* The calling thread's loop (after startup), or NULL. Other code of the
 * thread may add its own handles to it; shutdown closes those too. */
uv_loop_t *ta_reactor_loop(void);

/* Shutdown for after a bailout: like the shutdown slot, but then frees the
 * events nobody released, without calling their callbacks' dispose (those
 * live in the Zend heap that is about to be discarded), and tells every
 * layer above (ta_async_reactor_generation() changes). The one call to
 * make; before php_request_shutdown(). */
void ta_reactor_abandon(void);

/* Process events watch a pidfd when the kernel has pidfd_open(); false
 * forces the SIGCHLD + waitpid() fallback (for tests). Process-wide. */
void ta_reactor_process_use_pidfd(bool on);
/* True when process events (and so commands run by exec events) are
 * watched by pidfd, without SIGCHLD. */
bool ta_reactor_pidfd_works(void);

#endif
