/* The Async\ objects' layouts and what the php_async_*.c files share of
 * them; private to those files. */
#ifndef TA_PHP_ASYNC_OBJECTS_H
#define TA_PHP_ASYNC_OBJECTS_H

#include "php_common.h"
#include "php_class.h"
#include "scheduler.h"
#include "ta_async_api.h"
#include "ta_clock.h"

/* Something coroutines wait for, completed once. */
typedef struct ta_awaitable {
    bool done;
    uint64_t done_seq;          /* completion order on the thread (1, 2, ...) */
    ta_coro **waiters;
    uint32_t n, cap;
} ta_awaitable;

void ta_aw_add(ta_awaitable *aw, ta_coro *co);
void ta_aw_remove(ta_awaitable *aw, ta_coro *co);

/* finally() callbacks (php_async_finally.c). Calls each with `subject`,
 * one after the other, and frees the table; what they throw goes to
 * `scope`'s exception handlers (several: a CompositeException), else is
 * logged as thrown by `what`. */
void ta_finally_call_all(HashTable *callbacks, zval *subject, zend_object *scope, const char *what);
/* The same in a coroutine of its own (of `request`), run next if `first`
 * (php-async runs those of a Scope before what is already queued). */
void ta_finally_spawn(HashTable *callbacks, zval *subject, zend_object *scope, zend_object *request, bool first);
/* Logs an exception nobody took (TA00910). */
void ta_finally_log(zend_object *ex, const char *where);

/* Marks it done and wakes its waiters. */
void ta_aw_complete(ta_awaitable *aw);

typedef struct {
    ta_coro *co;                /* NULL once finished */
    uint64_t id;                /* 0: not made by spawn() (PDO can make objects) */
    zval result;
    zend_object *exception;
    bool cancelled;
    bool observed;              /* someone awaited it or read its outcome */
    zend_string *spawn_file;    /* kept after it finished */
    uint32_t spawn_line;
    HashTable *finally;         /* finally() callbacks, until it finishes */
    zend_object *context;       /* getContext() after it finished; held */
    ta_awaitable aw;
    zend_object std;
} ta_coro_obj;

typedef struct {
    zend_async_timer_event_t *timer;
    /* ta_async_reactor_generation() when the timer was taken: after a
     * bailout the reactor frees every event at once, and a Timeout that
     * outlived it (in a global) must leave its timer alone. */
    uint32_t generation;
    zend_long ms;               /* 0: not made by timeout() */
    bool cancelled;             /* cancel(): it will never complete */
    ta_awaitable aw;
    zend_object std;
} ta_timeout_obj;


#define CORO_OBJ(o) OBJ_OF(ta_coro_obj, o)
#define TIMEOUT_OBJ(o) OBJ_OF(ta_timeout_obj, o)

extern zend_class_entry *ta_ce_awaitable, *ta_ce_completable, *ta_ce_coroutine, *ta_ce_timeout, *ta_ce_channel;

/* When a coroutine with an Async\Coroutine object finishes (the
 * scheduler's handle hook): the object takes the outcome. */
void ta_spawned_done(ta_coro *co, zend_object *uncaught);
/* Its Async\Coroutine object (co->handle) takes the outcome and wakes
 * whoever awaits it; once (the end hook may do it first). */
void ta_coroutine_settle(ta_coro *co, zend_object *uncaught);
/* The coroutine's Async\Coroutine object, made on first need (spawned:
 * by spawn(), whose errors are the object's to report). Borrowed. */
zend_object *ta_coroutine_handle(ta_coro *co, bool spawned);
/* Starts the timer of a Timeout made by timeout(); false with an exception
 * thrown if there is no reactor or it refused. */
bool ta_timeout_arm(ta_timeout_obj *o, zend_long ms);
/* The reactor is up on this thread; else an Error is thrown. */
bool ta_async_loop_ok(void);

/* Async\Future and Async\FutureState (php_async_future.c). */
extern zend_class_entry *ta_ce_future, *ta_ce_future_state;
ta_awaitable *ta_future_awaitable(zend_object *future);
/* Its value into return_value, or its exception thrown. */
void ta_future_outcome(zend_object *future, zval *return_value);
/* A Future of callable(...args) run as a coroutine of the current request;
 * NULL with an exception thrown. */
zend_object *ta_future_from_call(zval *callable, uint32_t argc, zval *args);
/* A Future the caller completes through *st (its reference: release it). */
typedef struct ta_fstate ta_fstate;
zend_object *ta_future_pending(ta_fstate **st);
/* Completes it with `value` (copied) or `ex` (a reference taken); once. */
void ta_fstate_complete(ta_fstate *st, zval *value, zend_object *ex);
bool ta_fstate_done(ta_fstate *st);
void ta_fstate_release(ta_fstate *st);
/* A completed Future: of `value` (copied) or of `ex`. */
zend_object *ta_future_completed(zval *value, zend_object *ex);
/* iterate()'s machinery for C (php_async_iterate.c): handler(data, value,
 * key) for each element of `iterable`, called by worker coroutines in a
 * new scope below the current one (safe: what they spawn outlives it), at
 * most `concurrency` of them (0: no limit); it throws to stop them.
 * finish(data, error) once the last one ended (error: what stopped it,
 * borrowed; NULL if none). False with an exception if it could not start
 * (then finish is never called). */
typedef void (*ta_iter_handler)(void *data, zval *value, zval *key);
typedef void (*ta_iter_finish)(void *data, zend_object *error);
bool ta_iterate_start(zval *iterable, uint32_t concurrency, ta_iter_handler handler, ta_iter_finish finish, void *data);

/* The awaitables an await_*() function takes (php_async_await_src.c): an
 * array's at once; a Traversable's as a coroutine of their own consumes it,
 * as php-async does, while the caller waits. */
typedef struct ta_await_src {
    uint32_t refs, n, cap;
    zend_object **objs;         /* held, in arrival order */
    zval *keys;                 /* their keys: strings or integers */
    zend_long next_index;       /* for an element without a key */
    bool done;                  /* no more will come */
    zend_object *error;         /* held: what consuming the iterable threw */
    ta_awaitable news;          /* completed at each arrival and at the end */
} ta_await_src;
/* NULL with an exception (an array element that is no awaitable, ...). */
ta_await_src *ta_await_src_new(zval *iterable);
void ta_await_src_release(ta_await_src *src);
/* What to wait on to hear of more (reset), or NULL when no more can come. */
ta_awaitable *ta_await_src_news(ta_await_src *src);

/* await($target, $cancel) (php_async_await.c). */
void ta_await_one(zend_object *target, zend_object *cancel, zval *return_value);

#endif
