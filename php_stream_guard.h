/* Socket streams shared by the requests of a PHP thread (a client made
 * when the worker booted: Predis, a raw protocol client, a logger's TCP
 * socket, a persistent connection): the coroutines of one request at a
 * time use it. A coroutine's read or write takes the stream for its
 * request, which keeps it while its coroutines wait on that stream only
 * (a reply read in several parts stays whole) and gives it up as soon as
 * one of them waits for anything else, or ends; coroutines of other
 * requests wait meanwhile, in arrival order. Never held across another
 * wait, so two shared streams cannot deadlock. A request cancelled in the
 * middle of an exchange on it (its wait on the stream failed, or the
 * cancellation was thrown while it held it) leaves it out of step: when
 * it lets go, the socket is shut down, so the next user gets an error,
 * never the rest of that exchange. Outside coroutines PHP behaves as its
 * own. */
#ifndef TA_PHP_STREAM_GUARD_H
#define TA_PHP_STREAM_GUARD_H

#include "php_common.h"
#include "scheduler.h"

/* From MINIT: the scheduler's suspend and end hooks. */
void ta_stream_guard_install(void);
/* At each boot of a worker (RINIT): nothing held. */
void ta_stream_guard_rinit(void);
/* A run ends (ta_module_run_end): waiters let go unwoken, holds forgotten. */
void ta_stream_guard_run_end(void);

/* Before a read or write on stream inside a coroutine: 0 go on (the
 * stream is the caller's request's), -1 cancelled while waiting (the
 * exception is pending), -2 the stream was closed meanwhile. Outside a
 * coroutine: 0. */
int ta_stream_guard_enter(php_stream *stream, bool write);
/* The caller is about to wait on the stream it is using: that wait keeps
 * the stream (any other wait gives it up). */
void ta_stream_guard_waiting(php_stream *stream);
/* The caller's wait on the stream failed on its cancellation: the
 * exchange it was in is cut short (the socket is shut down when it lets
 * go). */
void ta_stream_guard_interrupted(php_stream *stream);
/* co's cancellation was thrown while it ran: each stream it holds where
 * an exchange may be under way (it wrote last, or bytes wait unread) is
 * cut short so. */
void ta_stream_guard_cancel_thrown(ta_coro *co);
/* fclose() of the stream inside a coroutine, before it lets the others
 * run: waits its turn if another request holds it, then those waiting for
 * it give up (their operation fails; they run before it is freed). 0 go
 * on, -1 cancelled while waiting (exception pending), -2 closed meanwhile. */
int ta_stream_guard_close(php_stream *stream);
/* fclose() where no coroutine may wait (a destructor, the GC): true when
 * another request holds the stream, which is then closed as that request
 * lets go (the caller reports it closed); false: close it now. */
bool ta_stream_guard_close_later(php_stream *stream);
/* The stream is being freed. */
void ta_stream_guard_forget(php_stream *stream);

#endif
