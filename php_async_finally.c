/* finally() callbacks of Coroutines, Scopes and TaskGroups, and what a
 * coroutine does at its end inside its own fiber, in php-async's order:
 * an exception that escaped it and nobody awaits goes to its scope's
 * exception handler; then its finally() callbacks run, one after the
 * other, and what they throw (several: one CompositeException) goes to
 * that handler too. All of it before anyone awaiting the coroutine
 * resumes. php-async makes an exception no handler takes fatal; here it is
 * logged (a request must not end a PHP thread's other requests). */
#include "php_async_objects.h"
#include "php_async_register.h"
#include "php_async_scope.h"
#include "ta_log.h"
#include <zend_closures.h>

void ta_finally_log(zend_object *ex, const char *where)
{
    ta_exception_info i;
    ta_exception_info_get(ex, &i);
    ta_log(TA_LOG_ERR, TA_LOGNO(00910) "Uncaught %s thrown by %s: %s in %s:" ZEND_LONG_FMT,
           i.cls, where, i.message, i.file, i.line);
}

/* err and ex as one: ex alone, or both in a CompositeException. Takes
 * both references. */
static zend_object *combine(zend_object *err, zend_object *ex)
{
    if (!err) return ex;
    if (!instanceof_function(err->ce, ta_ce_composite_exception)) {
        zval c;
        object_init_ex(&c, ta_ce_composite_exception);
        ta_composite_add(Z_OBJ(c), err);
        OBJ_RELEASE(err);
        err = Z_OBJ(c);
    }
    ta_composite_add(err, ex);
    OBJ_RELEASE(ex);
    return err;
}

void ta_finally_call_all(HashTable *callbacks, zval *subject, zend_object *scope, const char *what)
{
    zend_object *err = NULL;
    zval *cb;
    ZEND_HASH_FOREACH_VAL(callbacks, cb) {
        zval rv;
        ZVAL_UNDEF(&rv);
        call_user_function(NULL, NULL, cb, &rv, 1, subject);
        zval_ptr_dtor(&rv);
        if (!EG(exception)) continue;
        /* the engine unwinding (exit(), shutdown) stops the callbacks */
        if (zend_is_unwind_exit(EG(exception)) || zend_is_graceful_exit(EG(exception))) break;
        zend_object *ex = EG(exception);
        GC_ADDREF(ex);
        zend_clear_exception();
        err = combine(err, ex);
    } ZEND_HASH_FOREACH_END();
    zend_hash_destroy(callbacks);
    FREE_HASHTABLE(callbacks);
    if (!err) return;
    ta_coro *co = ta_coro_current();
    if (EG(exception) || !co || !ta_scope_handle_now(scope, co, err)) ta_finally_log(err, what);
    OBJ_RELEASE(err);
}

/* The scheduler's end hook (in the coroutine's fiber). A cancellation that
 * arrives meanwhile waits: these callbacks run to their end. */
static void coroutine_end(ta_coro *co)
{
    ta_coro_obj *o = co->handle ? CORO_OBJ(co->handle) : NULL;
    co->protect++;
    zend_object *ex = co->uncaught;
    /* a coroutine with an outcome handler of its own (a task, a request)
     * may take the exception itself: its scope hears later, as before */
    if (ex && !co->on_done && co->ascope && !(o && o->aw.n) && !ta_scope_is_cancelled(co->ascope)
        && !instanceof_function(ex->ce, ta_ce_async_cancellation)) {
        GC_ADDREF(ex);
        if (ta_scope_fail(co, ex) && o) o->observed = true;
        OBJ_RELEASE(ex);
    }
    if (o && o->finally && !EG(exception)) {
        HashTable *ht = o->finally;
        o->finally = NULL;
        /* the callbacks see it completed (its awaiters run once it yields) */
        if (!co->on_done) ta_coroutine_settle(co, co->uncaught);
        zval self;
        ZVAL_OBJ(&self, &o->std);
        GC_ADDREF(&o->std);
        ta_finally_call_all(ht, &self, co->ascope ? co->ascope : ta_scope_of(co, false), "a Coroutine::finally() callback");
        OBJ_RELEASE(&o->std);
    }
    co->protect--;
}

void ta_finally_register(void)
{
    ta_sched_set_end_hook(coroutine_end);
}

/* {{{ Coroutine::finalizer(array $callbacks, object $subject, ?Scope $scope): void
 * The coroutine the finally() callbacks of a Scope or a TaskGroup (or of a
 * coroutine that never ran) run in (private: only the module spawns it). */
ZEND_METHOD(Async_Coroutine, finalizer)
{
    HashTable *cbs;
    zval *subject;
    zend_object *scope = NULL;
    ZEND_PARSE_PARAMETERS_START(3, 3)
        Z_PARAM_ARRAY_HT(cbs)
        Z_PARAM_OBJECT(subject)
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(scope, ta_ce_scope)
    ZEND_PARSE_PARAMETERS_END();
    zend_class_entry *ce = Z_OBJCE_P(subject);
    ta_finally_call_all(zend_array_dup(cbs), subject, scope,
                        ce == ta_ce_scope ? "a Scope::finally() callback"
                        : ce == ta_ce_coroutine ? "a Coroutine::finally() callback" : "a TaskGroup::finally() callback");
}

void ta_finally_spawn(HashTable *callbacks, zval *subject, zend_object *scope, zend_object *request, bool first)
{
    ta_sched *s = ta_sched_current;
    zval fn, args[3];
    zend_function *f = zend_hash_str_find_ptr(&ta_ce_coroutine->function_table, ZEND_STRL("finalizer"));
    if (!s || !f) { zend_hash_destroy(callbacks); FREE_HASHTABLE(callbacks); return; }
    zend_create_fake_closure(&fn, f, ta_ce_coroutine, ta_ce_coroutine, NULL);
    ZVAL_ARR(&args[0], callbacks);
    ZVAL_COPY_VALUE(&args[1], subject);
    if (scope) ZVAL_OBJ(&args[2], scope); else ZVAL_NULL(&args[2]);
    ta_coro *co = ta_sched_spawn(s, &fn, 3, args, request, NULL);
    zval_ptr_dtor(&fn);
    zend_array_release(callbacks);
    if (!co) { if (EG(exception)) zend_clear_exception(); return; }
    ta_coroutine_handle(co, true);
    if (first) ta_sched_run_next(s, co);
}
