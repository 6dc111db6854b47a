/* Async\Scope, Async\Context and the context functions, as php-async
 * defines them. A scope knows its parent (held) and its children (not
 * held: a child leaves the list when it goes); a coroutine knows its scope
 * (co->ascope, not held: a scope that goes hands its coroutines to its
 * parent). Scopes are made only when PHP code asks for one: until then a
 * coroutine's scope is its request's, or the thread's main scope. */
#include "php_async_scope.h"
#include "php_async_register.h"
#include "reactor_apr.h"
#include <zend_closures.h>
#include <zend_interfaces.h>
#include "stubs/php_async_scope_arginfo.h"

zend_class_entry *ta_ce_scope;
static zend_object_handlers h_scope;

typedef struct {
    zend_object *parent;        /* held; NULL: a root (main, new Scope()) */
    zend_object *context;       /* held; made on demand */
    zend_object *request;       /* the request (co->scope) this is the scope of; not held */
    zend_object **children;     /* not held */
    uint32_t n_children, cap_children;
    uint32_t live;              /* its own coroutines not finished */
    zval on_error, on_child_error;
    HashTable *finally;         /* Closures, until they ran */
    HashTable *errors;          /* what its coroutines failed with after cancel() */
    ta_awaitable waiters;       /* coroutines in awaitCompletion() and the like */
    zend_object *cancel_error;  /* held */
    zend_object *failure;       /* held: the uncaught exception that cancelled it (ta_scope_fail()) */
    ta_scope_watch *watchers;   /* told when it is cancelled, disposed or destroyed */
    bool cancelled, closed, zombies, is_main;
    bool disposed;              /* dispose() (or its timer, or its destruction) closed it */
    zend_object std;
} ta_scope_obj;


#define SCOPE(o) OBJ_OF(ta_scope_obj, o)

static zend_object **(*request_slot)(zend_object *request);

void ta_scope_set_request_slot(zend_object **(*slot)(zend_object *request)) { request_slot = slot; }

void ta_scope_release_request(zend_object *scope)
{
    SCOPE(scope)->request = NULL;
    OBJ_RELEASE(scope);
}

/* ---- the tree ------------------------------------------------------------------ */

static zend_object *scope_new(zend_object *parent)
{
    zval z;
    object_init_ex(&z, ta_ce_scope);
    ta_scope_obj *o = SCOPE(Z_OBJ(z));
    if (parent) {
        ta_scope_obj *p = SCOPE(parent);
        o->parent = parent;
        o->zombies = p->zombies || p->is_main;     /* php-async: safe as its parent; the main scope is */
        GC_ADDREF(parent);
        if (p->n_children == p->cap_children) {
            p->cap_children = p->cap_children ? p->cap_children * 2 : 4;
            p->children = erealloc(p->children, p->cap_children * sizeof *p->children);
        }
        p->children[p->n_children++] = Z_OBJ(z);
    }
    return Z_OBJ(z);
}

static void adopt(ta_coro *co, zend_object *scope)
{
    co->ascope = scope;
    SCOPE(scope)->live++;
}

zend_object *ta_scope_main(bool create)
{
    ta_sched *s = ta_sched_current;
    if (!s) return NULL;
    if (s->main_scope || !create) return s->main_scope;
    s->main_scope = scope_new(NULL);
    SCOPE(s->main_scope)->is_main = true;
    /* coroutines of no request spawned before anyone asked */
    for (ta_coro *co = s->all; co; co = co->next)
        if (!co->ascope && !co->scope && co->state != TA_CORO_DONE) adopt(co, s->main_scope);
    return s->main_scope;
}

static zend_object *request_scope(zend_object *request, bool create)
{
    if (!request_slot) return ta_scope_main(create);
    zend_object **slot = request_slot(request);
    if (!slot) return ta_scope_main(create);
    if (*slot || !create) return *slot;
    zend_object *m = ta_scope_main(true);
    *slot = scope_new(m);
    SCOPE(*slot)->request = request;
    /* the request's coroutines so far (its handler's among them) */
    for (ta_coro *co = ta_sched_current->all; co; co = co->next)
        if (!co->ascope && co->scope == request && co->state != TA_CORO_DONE) adopt(co, *slot);
    return *slot;
}

zend_object *ta_scope_of(ta_coro *co, bool create)
{
    if (co && co->ascope) return co->ascope;
    if (co && co->scope) return request_scope(co->scope, create);
    return ta_scope_main(create);
}

void ta_scope_adopt_spawned(ta_coro *parent, ta_coro *child, zend_object *into)
{
    zend_object *scope = into ? into : ta_scope_of(parent, false);
    if (scope) adopt(child, scope);
}

static bool in_scope(zend_object *scope, zend_object *of)
{
    for (; scope; scope = SCOPE(scope)->parent) if (scope == of) return true;
    return false;
}

static bool scope_finished(ta_scope_obj *o)
{
    if (o->live) return false;
    for (uint32_t i = 0; i < o->n_children; i++) if (!scope_finished(SCOPE(o->children[i]))) return false;
    return true;
}

static void wake_waiters(ta_awaitable *aw)
{
    for (uint32_t i = 0; i < aw->n; i++) ta_coro_wake(aw->waiters[i]);
    aw->n = 0;
}

/* The request of the coroutine running now (NULL outside coroutines). */
static zend_object *cur_request(void)
{
    ta_sched *s = ta_sched_current;
    return s && s->current ? s->current->scope : NULL;
}

/* The finally() callbacks run in a coroutine of their own, before what is
 * already queued (php-async's order), given the scope; what they throw
 * goes to its exception handler. `request`: whose output they write to,
 * when the scope is not a request's own. */
static void run_finally(ta_scope_obj *o, zend_object *request)
{
    if (!o->finally || !scope_finished(o)) return;
    HashTable *ht = o->finally;
    o->finally = NULL;
    zval self;
    ZVAL_OBJ(&self, &o->std);
    ta_finally_spawn(ht, &self, &o->std, o->request ? o->request : request, true);
}

/* The scope or one above it changed: whoever waits for one to finish looks. */
static void scope_settled(zend_object *scope, zend_object *request)
{
    for (; scope; scope = SCOPE(scope)->parent) {
        ta_scope_obj *o = SCOPE(scope);
        if (!scope_finished(o)) continue;
        if (o->waiters.n) wake_waiters(&o->waiters);
        if (o->closed) run_finally(o, request);
    }
}

void ta_scope_watch_add(zend_object *scope, ta_scope_watch *w)
{
    ta_scope_obj *o = SCOPE(scope);
    *w = (ta_scope_watch) { .fire = w->fire, .scope = scope, .next = o->watchers };
    if (o->watchers) o->watchers->prev = w;
    o->watchers = w;
}

void ta_scope_watch_remove(ta_scope_watch *w)
{
    if (!w->scope) return;
    ta_scope_obj *o = SCOPE(w->scope);
    if (w->prev) w->prev->next = w->next; else o->watchers = w->next;
    if (w->next) w->next->prev = w->prev;
    w->scope = NULL;
}

/* The scope ended: its watchers hear it (fire: from a live scheduler). */
static void scope_ended(ta_scope_obj *o, bool fire)
{
    ta_scope_watch *w;
    while ((w = o->watchers)) {
        ta_scope_watch_remove(w);
        if (fire) w->fire(w);
    }
}

/* Cancels the scope and, first, every scope below it (php-async). Safely
 * (Scope::cancel() on a scope that allows zombies): coroutines that have
 * started are left to finish, only those not started yet are cancelled. */
static void scope_cancel_ex(ta_scope_obj *o, zend_object *error, const char *why, bool safely)
{
    if (!o->cancel_error) {
        o->cancel_error = error ? error : ta_new_cancellation(why);
        if (error) GC_ADDREF(error);
    }
    o->cancelled = o->closed = true;
    for (uint32_t i = 0; i < o->n_children; i++) scope_cancel_ex(SCOPE(o->children[i]), o->cancel_error, why, safely);
    ta_sched *s = ta_sched_current;
    if (s)
        for (ta_coro *co = s->all; co; co = co->next)
            if (co->state != TA_CORO_DONE && co->ascope == &o->std && !(safely && co->started)) {
                if (co->handle) CORO_OBJ(co->handle)->cancelled = true;
                ta_coro_cancel(co, o->cancel_error, why);
            }
    scope_ended(o, true);
    scope_settled(&o->std, cur_request());
}

static void scope_cancel(ta_scope_obj *o, zend_object *error, const char *why)
{
    scope_cancel_ex(o, error, why, false);
}

/* The handler for an exception of `scope`: its own, else the nearest
 * child-scope (or plain) handler above it; NULL if none. */
static zval *find_handler(zend_object *scope, zend_object **at)
{
    if (!Z_ISUNDEF(SCOPE(scope)->on_error)) { *at = scope; return &SCOPE(scope)->on_error; }
    for (zend_object *p = SCOPE(scope)->parent; p; p = SCOPE(p)->parent) {
        *at = p;
        if (!Z_ISUNDEF(SCOPE(p)->on_child_error)) return &SCOPE(p)->on_child_error;
        if (!Z_ISUNDEF(SCOPE(p)->on_error)) return &SCOPE(p)->on_error;
    }
    return NULL;
}

/* Fallback for a coroutine that ended outside its fiber: the handler runs
 * as a coroutine of its own. */
static bool handle_error(ta_coro *co, zend_object *uncaught)
{
    zend_object *at = NULL;
    zval *handler = find_handler(co->ascope, &at);
    if (!handler) return false;
    ta_sched *s = ta_sched_current;
    zval args[3];
    ZVAL_OBJ(&args[0], at);
    ZVAL_OBJ(&args[1], ta_coroutine_handle(co, true));
    ZVAL_OBJ(&args[2], uncaught);
    ta_coro *h = s ? ta_sched_spawn(s, handler, 3, args, co->scope, NULL) : NULL;
    if (!h) { if (EG(exception)) zend_clear_exception(); return false; }
    ta_coroutine_handle(h, true);
    adopt(h, at);
    return true;
}

/* handler(at, co's Coroutine, ex), called now; false if it threw (logged). */
static bool call_handler(zval *handler, zend_object *at, ta_coro *co, zend_object *ex)
{
    zval args[3], rv, cb;
    ZVAL_COPY(&cb, handler);        /* the handler may replace itself */
    ZVAL_OBJ(&args[0], at);
    ZVAL_OBJ(&args[1], ta_coroutine_handle(co, true));
    ZVAL_OBJ(&args[2], ex);
    ZVAL_UNDEF(&rv);
    call_user_function(NULL, NULL, &cb, &rv, 3, args);
    zval_ptr_dtor(&rv);
    zval_ptr_dtor(&cb);
    if (!EG(exception)) return true;
    ta_finally_log(EG(exception), "a scope exception handler");
    zend_clear_exception();
    return false;
}

bool ta_scope_handle_now(zend_object *scope, ta_coro *co, zend_object *ex)
{
    zend_object *at = NULL;
    zval *handler = scope ? find_handler(scope, &at) : NULL;
    return handler && call_handler(handler, at, co, ex);
}

/* php-async's way up the tree with an exception nobody awaiting the
 * coroutine took: a scope's handler (above the first: its child-scope
 * handler, else its own) takes it; else the scope is cancelled and, if
 * coroutines wait in its awaitCompletion(), they get the exception, which
 * ends it there. Request and main scopes only lend their handlers: they
 * carry other work, and php-async would end the thread. */
bool ta_scope_fail(ta_coro *co, zend_object *ex)
{
    zend_object *mine = co->ascope;
    for (zend_object *l = mine; l; l = SCOPE(l)->parent) {
        ta_scope_obj *o = SCOPE(l);
        zval *h = &o->on_error;
        if (l != mine && !Z_ISUNDEF(o->on_child_error)) h = &o->on_child_error;
        if (!Z_ISUNDEF_P(h) && call_handler(h, l, co, ex)) return true;
        if (o->request || o->is_main) continue;
        if (!o->failure) { o->failure = ex; GC_ADDREF(ex); }
        co->ascope = NULL;          /* ending: not cancelled with its scope */
        scope_cancel_ex(o, NULL, "Scope was cancelled", o->zombies);
        co->ascope = mine;
        if (!o->waiters.n) continue;
        wake_waiters(&o->waiters);
        return true;
    }
    return false;
}

bool ta_scope_coroutine_done(ta_coro *co, zend_object *uncaught)
{
    zend_object *scope = co->ascope;
    if (!scope) return false;
    ta_scope_obj *o = SCOPE(scope);
    bool taken = false;
    if (o->live) o->live--;
    co->ascope = NULL;
    /* one that failed the scope (ta_scope_fail()) was dealt with */
    if (uncaught && uncaught != o->failure && !instanceof_function(uncaught->ce, ta_ce_async_cancellation)) {
        if (o->cancelled) {
            if (!o->errors) { ALLOC_HASHTABLE(o->errors); zend_hash_init(o->errors, 2, NULL, ZVAL_PTR_DTOR, 0); }
            GC_ADDREF(uncaught);
            zval z;
            ZVAL_OBJ(&z, uncaught);
            zend_hash_next_index_insert(o->errors, &z);
            taken = true;
        } else if (!co->end_hooked || co->on_done) {     /* else the end hook offered it already */
            co->ascope = scope;     /* its handler coroutine joins this scope */
            o->live++;
            taken = handle_error(co, uncaught);
            o->live--;
            co->ascope = NULL;
        }
    }
    scope_settled(scope, co->scope);
    return taken;
}

/* ---- Scope objects ----------------------------------------------------------------- */

static zend_object *scope_create(zend_class_entry *ce)
{
    ta_scope_obj *o = ta_object_new(sizeof *o, ce, &h_scope);
    ZVAL_UNDEF(&o->on_error);
    ZVAL_UNDEF(&o->on_child_error);
    return &o->std;
}

/* The last reference went while coroutines still run in it: they are
 * cancelled, unless zombies were allowed; finally handlers still run. */
static void scope_dtor(zend_object *obj)
{
    ta_scope_obj *o = SCOPE(obj);
    if (ta_sched_current && !o->is_main) {
        if (!scope_finished(o) && !o->zombies && !o->cancelled)
            scope_cancel(o, NULL, "Scope is being disposed due to object destruction");
        o->closed = o->disposed = true;
        if (o->finally && scope_finished(o)) run_finally(o, cur_request());
    }
    zend_objects_destroy_object(obj);
}

static void scope_free(zend_object *obj)
{
    ta_scope_obj *o = SCOPE(obj);
    ta_sched *s = ta_sched_current;
    scope_ended(o, s != NULL);
    /* its coroutines go on in its parent (or in none) */
    if (s)
        for (ta_coro *co = s->all; co; co = co->next)
            if (co->ascope == obj) {
                co->ascope = o->parent;
                if (o->parent) SCOPE(o->parent)->live++;
            }
    if (o->parent) {
        ta_scope_obj *p = SCOPE(o->parent);
        for (uint32_t i = 0; i < p->n_children; i++)
            if (p->children[i] == obj) { p->children[i] = p->children[--p->n_children]; break; }
        OBJ_RELEASE(o->parent);
    }
    for (uint32_t i = 0; i < o->n_children; i++) SCOPE(o->children[i])->parent = NULL;  /* cannot happen: children hold us */
    if (o->children) efree(o->children);
    if (o->context) OBJ_RELEASE(o->context);
    if (o->cancel_error) OBJ_RELEASE(o->cancel_error);
    if (o->failure) OBJ_RELEASE(o->failure);
    zval_ptr_dtor(&o->on_error);
    zval_ptr_dtor(&o->on_child_error);
    if (o->finally) { zend_hash_destroy(o->finally); FREE_HASHTABLE(o->finally); }
    if (o->errors) { zend_hash_destroy(o->errors); FREE_HASHTABLE(o->errors); }
    if (o->waiters.waiters) efree(o->waiters.waiters);
    zend_object_std_dtor(obj);
}

static HashTable *scope_get_gc(zend_object *obj, zval **table, int *n)
{
    ta_scope_obj *o = SCOPE(obj);
    zend_get_gc_buffer *buf = zend_get_gc_buffer_create();
    zend_get_gc_buffer_add_zval(buf, &o->on_error);
    zend_get_gc_buffer_add_zval(buf, &o->on_child_error);
    if (o->parent) zend_get_gc_buffer_add_obj(buf, o->parent);
    if (o->context) zend_get_gc_buffer_add_obj(buf, o->context);
    if (o->failure) zend_get_gc_buffer_add_obj(buf, o->failure);
    zval *v;
    if (o->finally) ZEND_HASH_FOREACH_VAL(o->finally, v) { zend_get_gc_buffer_add_zval(buf, v); } ZEND_HASH_FOREACH_END();
    zend_get_gc_buffer_use(buf, table, n);
    return NULL;
}

zend_object *ta_scope_context(zend_object *scope)
{
    ta_scope_obj *o = SCOPE(scope);
    if (!o->context) o->context = ta_context_new(o->parent);
    return o->context;
}

/* A coroutine in `scope` calling `callable(...args)`; NULL with an exception. */
static ta_coro *spawn_in(zend_object *scope, zval *callable, uint32_t argc, zval *args)
{
    ta_scope_obj *o = SCOPE(scope);
    ta_sched *s = ta_sched_current;
    if (!s) { zend_throw_error(NULL, "Async\\Scope needs a TrueAsync worker thread"); return NULL; }
    if (o->closed) {
        zend_throw_exception(ta_ce_async_exception, "Cannot spawn a coroutine in a closed scope", 0);
        return NULL;
    }
    /* it writes to the request it is spawned for (its state follows it) */
    zend_object *request = o->request ? o->request : (s->current ? s->current->scope : NULL);
    ta_coro *co = ta_sched_spawn(s, callable, argc, args, request, NULL);
    if (co) adopt(co, scope);
    return co;
}

zend_object *ta_scope_parent(zend_object *scope) { return SCOPE(scope)->parent; }
void ta_scope_set_safe(zend_object *scope, bool safe) { SCOPE(scope)->zombies = safe; }
zend_object *ta_scope_context_if_any(zend_object *scope) { return SCOPE(scope)->context; }
bool ta_scope_is_request(zend_object *scope) { return SCOPE(scope)->request != NULL; }
bool ta_scope_is_cancelled(zend_object *scope) { return SCOPE(scope)->cancelled; }
bool ta_scope_is_disposed(zend_object *scope)
{
    for (; scope; scope = SCOPE(scope)->parent) if (SCOPE(scope)->disposed && SCOPE(scope)->cancelled) return true;
    return false;
}

ta_coro *ta_scope_spawn(zend_object *scope, zval *callable, uint32_t argc, zval *args,
                        ta_coro_done_fn on_done, void *data)
{
    ta_coro *co = spawn_in(scope, callable, argc, args);
    if (co) { co->on_done = on_done; co->done_data = data; }
    return co;
}

zend_object *ta_scope_child(zend_object *parent)
{
    if (!parent) parent = ta_scope_of(ta_coro_current(), true);
    return parent ? scope_new(parent) : NULL;
}

void ta_scope_cancel(zend_object *scope, zend_object *error, const char *why) { scope_cancel(SCOPE(scope), error, why); }

void ta_scope_cancel_open(zend_object *scope, const char *why)
{
    ta_scope_obj *o = SCOPE(scope);
    bool closed = o->closed;
    scope_cancel(o, NULL, why);
    o->closed = closed;
}

static ta_scope_obj *scope_this(zval *this_zv) { return SCOPE(Z_OBJ_P(this_zv)); }

/* {{{ Scope::inherit(?Scope $parentScope = null): Scope */
ZEND_METHOD(Async_Scope, inherit)
{
    zend_object *parent = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(parent, ta_ce_scope)
    ZEND_PARSE_PARAMETERS_END();
    if (!parent) parent = ta_scope_of(ta_coro_current(), true);
    if (!parent) { zend_throw_error(NULL, "Async\\Scope needs a TrueAsync worker thread"); RETURN_THROWS(); }
    RETURN_OBJ(scope_new(parent));
}

ZEND_METHOD(Async_Scope, __construct) { ZEND_PARSE_PARAMETERS_NONE(); }
ZEND_METHOD(Async_Scope, provideScope) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS)); }
/* Disposal cancels what still runs in any case; kept for php-async's API. */
ZEND_METHOD(Async_Scope, asNotSafely) { ZEND_PARSE_PARAMETERS_NONE(); scope_this(ZEND_THIS)->zombies = false; RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS)); }
ZEND_METHOD(Async_Scope, allowZombies) { ZEND_PARSE_PARAMETERS_NONE(); scope_this(ZEND_THIS)->zombies = true; RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS)); }
ZEND_METHOD(Async_Scope, isFinished) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(scope_finished(scope_this(ZEND_THIS))); }
ZEND_METHOD(Async_Scope, isClosed) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(scope_this(ZEND_THIS)->closed); }
ZEND_METHOD(Async_Scope, isCancelled) { ZEND_PARSE_PARAMETERS_NONE(); RETURN_BOOL(scope_this(ZEND_THIS)->cancelled); }

/* {{{ Scope::spawn(Closure $callable, mixed ...$params): Coroutine */
ZEND_METHOD(Async_Scope, spawn)
{
    zval *callable, *args = NULL;
    uint32_t argc = 0;
    ZEND_PARSE_PARAMETERS_START(1, -1)
        Z_PARAM_OBJECT_OF_CLASS(callable, zend_ce_closure)
        Z_PARAM_VARIADIC('*', args, argc)
    ZEND_PARSE_PARAMETERS_END();
    ta_coro *co = spawn_in(Z_OBJ_P(ZEND_THIS), callable, argc, args);
    if (!co) RETURN_THROWS();
    RETURN_OBJ_COPY(ta_coroutine_handle(co, true));
}

/* {{{ Scope::cancel(?AsyncCancellation $cancellationError = null): void */
ZEND_METHOD(Async_Scope, cancel)
{
    zend_object *error = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(error, ta_ce_async_cancellation)
    ZEND_PARSE_PARAMETERS_END();
    ta_scope_obj *o = scope_this(ZEND_THIS);
    scope_cancel_ex(o, error, "Scope was cancelled", o->zombies);
}

void ta_scope_dispose(zend_object *scope, const char *why)
{
    ta_scope_obj *o = SCOPE(scope);
    if (!scope_finished(o)) scope_cancel(o, NULL, why);
    o->closed = o->disposed = true;
    scope_ended(o, true);
    run_finally(o, cur_request());
}

ZEND_METHOD(Async_Scope, dispose) { ZEND_PARSE_PARAMETERS_NONE(); ta_scope_dispose(Z_OBJ_P(ZEND_THIS), "Scope was disposed"); }

/* Closes it: nothing new may spawn there, what runs goes on. */
ZEND_METHOD(Async_Scope, disposeSafely)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_scope_obj *o = scope_this(ZEND_THIS);
    o->closed = o->disposed = true;
    run_finally(o, cur_request());
}

/* Waits (as a coroutine, or driving the loop outside one) until the scope
 * finished or `cancel` completed; the latter throws. */
static void await_scope(ta_scope_obj *o, zend_object *cancel)
{
    ta_awaitable *c = cancel ? ta_awaitable_of(cancel) : NULL;
    if (cancel && !c) {
        if (!EG(exception)) zend_argument_type_error(1, "must be an awaitable made by Async\\spawn() or Async\\timeout()");
        return;
    }
    ta_coro *co = ta_coro_current();
    if (co && in_scope(ta_scope_of(co, false), &o->std)) {
        zend_throw_exception(ta_ce_async_exception, "Cannot await completion of scope from a coroutine that belongs to the same scope or its children", 0);
        return;
    }
    zend_object *failed = o->failure;
    for (;;) {
        if (o->failure != failed) {     /* a coroutine's exception failed it meanwhile */
            GC_ADDREF(o->failure);
            zend_throw_exception_object(&(zval){ .value.obj = o->failure, .u1.type_info = IS_OBJECT_EX });
            return;
        }
        if (scope_finished(o)) return;
        if (c && c->done) { ta_throw_cancelled(cancel); return; }
        if (!co) {
            ta_sched *s = ta_sched_current;
            if (!s || !ta_reactor_loop()) { zend_throw_error(NULL, "No event loop on this thread"); return; }
            ta_sched_run_ready(s);
            ta_sched_idle();
            if (EG(exception)) return;
            if (scope_finished(o) || (c && c->done)) continue;
            if (!ZEND_ASYNC_REACTOR_EXECUTE(ta_sched_has_ready(s)) && !ta_sched_has_ready(s)) {
                zend_throw_exception(ta_ce_deadlock_error, "Deadlock: nothing left that could finish the scope", 0);
                return;
            }
            continue;
        }
        ta_aw_add(&o->waiters, co);
        if (c) ta_aw_add(c, co);
        zend_result rc = ta_coro_wait(NULL, NULL);
        ta_aw_remove(&o->waiters, co);
        if (c) ta_aw_remove(c, co);
        if (rc == FAILURE) return;
    }
}

bool ta_scope_await_finished(zend_object *scope)
{
    await_scope(SCOPE(scope), NULL);
    return !EG(exception);
}

/* {{{ Scope::awaitCompletion(Awaitable $cancellation): void */
ZEND_METHOD(Async_Scope, awaitCompletion)
{
    zend_object *cancel;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJ_OF_CLASS(cancel, ta_ce_awaitable)
    ZEND_PARSE_PARAMETERS_END();
    ta_scope_obj *o = scope_this(ZEND_THIS);
    /* php-async: a cancelled scope is not waited for, until it is over
     * (or disposed) */
    if (o->cancelled && !o->disposed && !scope_finished(o)) {
        zend_throw_exception_object(&(zval){ .value.obj = ta_new_cancellation("The scope has been cancelled"),
                                             .u1.type_info = IS_OBJECT_EX });
        RETURN_THROWS();
    }
    await_scope(o, cancel);
}

/* {{{ Scope::awaitAfterCancellation(?callable $errorHandler = null, ?Awaitable $cancellation = null): void */
ZEND_METHOD(Async_Scope, awaitAfterCancellation)
{
    zval *handler = NULL;
    zend_object *cancel = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 2)
        Z_PARAM_OPTIONAL
        Z_PARAM_ZVAL_OR_NULL(handler)
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_awaitable)
    ZEND_PARSE_PARAMETERS_END();
    if (handler && !zend_is_callable(handler, 0, NULL)) { zend_argument_type_error(1, "must be a valid callback or null"); RETURN_THROWS(); }
    ta_scope_obj *o = scope_this(ZEND_THIS);
    if (!o->cancelled) {
        zend_throw_exception(ta_ce_async_exception, "Attempt to await a Scope that has not been cancelled", 0);
        RETURN_THROWS();
    }
    await_scope(o, cancel);
    if (EG(exception) || !o->errors) return;
    HashTable *errors = o->errors;
    o->errors = NULL;
    zval *e;
    ZEND_HASH_FOREACH_VAL(errors, e) {
        if (EG(exception)) break;
        if (!handler) { Z_ADDREF_P(e); zend_throw_exception_object(e); break; }
        zval rv;
        call_user_function(NULL, NULL, handler, &rv, 1, e);
        zval_ptr_dtor(&rv);
    } ZEND_HASH_FOREACH_END();
    zend_hash_destroy(errors);
    FREE_HASHTABLE(errors);
}

static void set_handler(INTERNAL_FUNCTION_PARAMETERS, bool child)
{
    zval *cb;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(cb)
    ZEND_PARSE_PARAMETERS_END();
    if (!zend_is_callable(cb, 0, NULL)) { zend_argument_type_error(1, "must be a valid callback"); RETURN_THROWS(); }
    zval *slot = child ? &scope_this(ZEND_THIS)->on_child_error : &scope_this(ZEND_THIS)->on_error;
    zval_ptr_dtor(slot);
    ZVAL_COPY(slot, cb);
}

ZEND_METHOD(Async_Scope, setExceptionHandler) { set_handler(INTERNAL_FUNCTION_PARAM_PASSTHRU, false); }
ZEND_METHOD(Async_Scope, setChildScopeExceptionHandler) { set_handler(INTERNAL_FUNCTION_PARAM_PASSTHRU, true); }

/* {{{ Scope::finally(Closure $callback): void — once it is closed and finished */
ZEND_METHOD(Async_Scope, finally)
{
    zval *cb;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(cb, zend_ce_closure)
    ZEND_PARSE_PARAMETERS_END();
    ta_scope_obj *o = scope_this(ZEND_THIS);
    if (!o->finally) { ALLOC_HASHTABLE(o->finally); zend_hash_init(o->finally, 2, NULL, ZVAL_PTR_DTOR, 0); }
    Z_ADDREF_P(cb);
    zend_hash_next_index_insert(o->finally, cb);
    if (!o->closed || !scope_finished(o)) return;
    /* it is over: the callback runs now (php-async) */
    HashTable *ht = o->finally;
    o->finally = NULL;
    ta_finally_call_all(ht, ZEND_THIS, &o->std, "a Scope::finally() callback");
}

ZEND_METHOD(Async_Scope, getChildScopes)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_scope_obj *o = scope_this(ZEND_THIS);
    array_init_size(return_value, o->n_children);
    for (uint32_t i = 0; i < o->n_children; i++) {
        GC_ADDREF(o->children[i]);
        add_next_index_object(return_value, o->children[i]);
    }
}

/* ---- registration ------------------------------------------------------------------ */

void ta_scope_register(void)
{
    ta_ce_scope = register_class_Async_Scope(ta_ce_scope_provider);
    ta_class_set_handlers(ta_ce_scope, scope_create, &h_scope, XtOffsetOf(ta_scope_obj, std), scope_free, false);
    h_scope.dtor_obj = scope_dtor;
    h_scope.get_gc = scope_get_gc;
}
