/* Structured concurrency: Async\Scope (a tree of scopes, each with the
 * coroutines spawned in it), Async\Context (values a scope or a coroutine
 * carries, looked up the tree), the main scope of a PHP thread and the
 * scope of each HTTP request. Private to the php_async_*.c files and the
 * HTTP API that hands out request scopes. */
#ifndef TA_PHP_ASYNC_SCOPE_H
#define TA_PHP_ASYNC_SCOPE_H

#include "php_async_objects.h"

/* Where the layer serving requests keeps a request's Scope object (held),
 * given the request's scheduler scope (co->scope). Set once at start-up. */
void ta_scope_set_request_slot(zend_object **(*slot)(zend_object *request));

/* The request a scope was made for is gone (its slot's owner frees it). */
void ta_scope_release_request(zend_object *scope);

/* The Async\Scope a coroutine runs in (co NULL: code outside coroutines,
 * the thread's main scope), made if `create`; borrowed, NULL if none. */
zend_object *ta_scope_of(ta_coro *co, bool create);
/* A coroutine just spawned by `parent` (NULL: outside coroutines) joins
 * parent's scope, or `into` if given. */
void ta_scope_adopt_spawned(ta_coro *parent, ta_coro *child, zend_object *into);
/* A coroutine finished (the scheduler's done hook): its scope hears of it;
 * an exception its scope's handlers take is marked observed. Returns
 * whether a handler took `uncaught`. */
bool ta_scope_coroutine_done(ta_coro *co, zend_object *uncaught);

/* Hands `ex` (of coroutine co) to the exception handler that `scope`
 * or a scope above it set, called now; false if there is none or the
 * handler threw (logged). */
bool ta_scope_handle_now(zend_object *scope, ta_coro *co, zend_object *ex);
/* An exception escaped coroutine co (in its fiber, as it ends) and nobody
 * awaits it: the scopes' handlers, else the scope fails (cancelled, its
 * awaitCompletion() throws it), as php-async does. True if taken. */
bool ta_scope_fail(ta_coro *co, zend_object *ex);

/* What must hear that a scope ended, that is was cancelled, disposed or
 * destroyed (a Channel made in it closes): embedded in its owner, linked
 * into the scope's list; fire() is called once, the watch already out. */
typedef struct ta_scope_watch ta_scope_watch;
struct ta_scope_watch {
    void (*fire)(ta_scope_watch *w);
    zend_object *scope;         /* NULL once out */
    ta_scope_watch *prev, *next;
};
void ta_scope_watch_add(zend_object *scope, ta_scope_watch *w);
void ta_scope_watch_remove(ta_scope_watch *w);

/* A coroutine in `scope` running callable(...args), on_done(co) called
 * when it ends (co->done_data = data); NULL with an exception (a closed
 * scope refuses). */
ta_coro *ta_scope_spawn(zend_object *scope, zval *callable, uint32_t argc, zval *args,
                        ta_coro_done_fn on_done, void *data);
/* A new Scope below `parent` (NULL: the current scope); NULL outside a worker. */
zend_object *ta_scope_child(zend_object *parent);
/* Safe (Scope::allowZombies()) or not (asNotSafely()). */
void ta_scope_set_safe(zend_object *scope, bool safe);
/* Waits until the scope (and its children) finished; false with an exception. */
bool ta_scope_await_finished(zend_object *scope);
/* Scope::dispose() from C: what still runs is cancelled, it closes and its
 * finally() callbacks run once it is over. */
void ta_scope_dispose(zend_object *scope, const char *why);
/* Scope::cancel() from C. */
void ta_scope_cancel(zend_object *scope, zend_object *error, const char *why);
/* The same, but it stays open: what is spawned there later runs
 * (TaskGroup::dispose(), whose scope php-async keeps pinned). */
void ta_scope_cancel_open(zend_object *scope, const char *why);

/* For php_async_context.c: a scope's parent, its Context (made if
 * needed, or NULL if none yet), whether it is a request's; the main
 * scope (made if `create`). Borrowed. */
zend_object *ta_scope_parent(zend_object *scope);
zend_object *ta_scope_context(zend_object *scope);
zend_object *ta_scope_context_if_any(zend_object *scope);
bool ta_scope_is_request(zend_object *scope);
bool ta_scope_is_cancelled(zend_object *scope);
/* It or a scope above it was disposed (cancelling what ran in it). */
bool ta_scope_is_disposed(zend_object *scope);
zend_object *ta_scope_main(bool create);

/* The coroutine's coroutine_context(), made on first use; borrowed. */
zend_object *ta_coroutine_context(ta_coro *co);
/* A new empty Context whose lookups continue at scope `up` (may be NULL). */
zend_object *ta_context_new(zend_object *up);

extern zend_class_entry *ta_ce_scope, *ta_ce_context, *ta_ce_scope_provider, *ta_ce_spawn_strategy;

/* For await(): what a module awaitable completes and what its completion
 * means (php_async_await.c). */
ta_awaitable *ta_awaitable_of(zend_object *obj);
void ta_throw_cancelled(zend_object *cancel);

#endif
