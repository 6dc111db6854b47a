/* Scope::disposeAfterTimeout(): a timer that disposes the scope. */
#include "php_async_scope.h"
#include "reactor_apr.h"

typedef struct {
    zend_async_event_callback_t base;
    zend_object *scope;         /* held until the timer fires or goes */
} dispose_cb;

static void dispose_cb_fire(zend_async_event_t *ev, zend_async_event_callback_t *cb, void *result, zend_object *ex)
{
    (void) ev; (void) result; (void) ex;
    dispose_cb *d = (dispose_cb *) cb;
    if (!d->scope) return;
    zend_object *scope = d->scope;
    d->scope = NULL;
    ta_scope_dispose(scope, "Scope was disposed after its timeout");
    OBJ_RELEASE(scope);
    ZEND_ASYNC_EVENT_RELEASE(ev);
}

static void dispose_cb_dispose(zend_async_event_callback_t *cb, zend_async_event_t *ev)
{
    (void) ev;
    dispose_cb *d = (dispose_cb *) cb;
    if (d->scope) OBJ_RELEASE(d->scope);    /* never fired: the reactor went first */
    efree(cb);
}

/* {{{ Scope::disposeAfterTimeout(int $timeout): void */
ZEND_METHOD(Async_Scope, disposeAfterTimeout)
{
    zend_long ms;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(ms)
    ZEND_PARSE_PARAMETERS_END();
    if (ms < 0) { zend_argument_value_error(1, "must be greater than or equal to 0"); RETURN_THROWS(); }     /* php-async's words */
    if (!ta_async_loop_ok()) RETURN_THROWS();
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT((zend_ulong) ms, false);
    if (!t) RETURN_THROWS();
    dispose_cb *cb = ecalloc(1, sizeof *cb);
    cb->base.callback = dispose_cb_fire;
    cb->base.dispose = dispose_cb_dispose;
    cb->scope = Z_OBJ_P(ZEND_THIS);
    GC_ADDREF(cb->scope);
    t->base.add_callback(&t->base, &cb->base);
    t->base.start(&t->base);
    if (EG(exception)) { ZEND_ASYNC_EVENT_RELEASE(&t->base); RETURN_THROWS(); }
}

