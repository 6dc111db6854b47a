#include "scheduler.h"
#include "php_async_api.h"

__thread ta_sched *ta_sched_current;

static zend_function *fn_start, *fn_resume, *fn_throw, *fn_suspend;

static void lookup_fiber_methods(void)
{
    if (fn_start) return;
    HashTable *ft = &zend_ce_fiber->function_table;
    fn_start = zend_hash_str_find_ptr(ft, ZEND_STRL("start"));
    fn_resume = zend_hash_str_find_ptr(ft, ZEND_STRL("resume"));
    fn_throw = zend_hash_str_find_ptr(ft, ZEND_STRL("throw"));
    fn_suspend = zend_hash_str_find_ptr(ft, ZEND_STRL("suspend"));
}

void ta_sched_init(ta_sched *s, uv_loop_t *loop)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->next_id = 1;
    lookup_fiber_methods();
    ta_sched_current = s;
}

void ta_sched_abandon(ta_sched *s)
{
    uv_loop_t *loop = s->loop;
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->next_id = 1;
}

static void make_ready(ta_sched *s, ta_coro *co)
{
    co->state = TA_CORO_READY;
    co->next_ready = NULL;
    if (s->ready_tail) s->ready_tail->next_ready = co; else s->ready_head = co;
    s->ready_tail = co;
}

ta_coro *ta_sched_spawn(ta_sched *s, zval *callable, uint32_t argc, zval *args,
                        zend_object *scope, ta_coro_done_fn on_done)
{
    zval fiber, rv;
    object_init_ex(&fiber, zend_ce_fiber);
    zend_call_known_instance_method_with_1_params(zend_ce_fiber->constructor, Z_OBJ(fiber), &rv, callable);
    zval_ptr_dtor(&rv);
    if (EG(exception)) { zval_ptr_dtor(&fiber); return NULL; }

    ta_coro *co = ecalloc(1, sizeof *co);
    co->fiber = Z_OBJ(fiber);
    co->argc = argc;
    if (argc) {
        co->args = safe_emalloc(argc, sizeof(zval), 0);
        for (uint32_t i = 0; i < argc; i++) ZVAL_COPY(&co->args[i], &args[i]);
    }
    co->id = s->next_id++;
    co->scope = scope;
    if (scope) GC_ADDREF(scope);
    co->on_done = on_done;
    co->next = s->all;
    if (s->all) s->all->prev = co;
    s->all = co;
    s->live++;
    make_ready(s, co);
    return co;
}

static void coro_free(ta_sched *s, ta_coro *co)
{
    if (co->prev) co->prev->next = co->next; else s->all = co->next;
    if (co->next) co->next->prev = co->prev;
    s->live--;
    for (uint32_t i = 0; i < co->argc && co->args; i++) zval_ptr_dtor(&co->args[i]);
    if (co->args) efree(co->args);
    if (co->throw_in) OBJ_RELEASE(co->throw_in);
    if (co->scope) OBJ_RELEASE(co->scope);
    if (co->handle) OBJ_RELEASE(co->handle);
    OBJ_RELEASE(co->fiber);
    efree(co);
}

static void run_one(ta_sched *s, ta_coro *co)
{
    zval rv;
    ZVAL_UNDEF(&rv);
    s->current = co;
    co->state = TA_CORO_RUNNING;
    if (!co->started) {
        co->started = 1;
        zend_call_known_function(fn_start, co->fiber, zend_ce_fiber, &rv, co->argc, co->args, NULL);
        for (uint32_t i = 0; i < co->argc; i++) zval_ptr_dtor(&co->args[i]);
        if (co->args) efree(co->args);
        co->args = NULL;
        co->argc = 0;
    } else if (co->throw_in) {
        zval ex;
        ZVAL_OBJ(&ex, co->throw_in);
        co->throw_in = NULL;
        zend_call_known_function(fn_throw, co->fiber, zend_ce_fiber, &rv, 1, &ex, NULL);
        zval_ptr_dtor(&ex);
    } else {
        zend_call_known_function(fn_resume, co->fiber, zend_ce_fiber, &rv, 0, NULL, NULL);
    }
    zval_ptr_dtor(&rv);
    s->current = NULL;

    zend_object *uncaught = NULL;
    if (EG(exception)) {
        uncaught = EG(exception);
        GC_ADDREF(uncaught);
        zend_clear_exception();
    }
    zend_fiber *f = (zend_fiber *) co->fiber;
    if (f->context.status == ZEND_FIBER_STATUS_DEAD || uncaught) {
        co->state = TA_CORO_DONE;
        if (co->on_done) co->on_done(co, uncaught);
        coro_free(s, co);
    } else if (co->state == TA_CORO_RUNNING) {
        co->state = TA_CORO_SUSPENDED;
    }
    if (uncaught) OBJ_RELEASE(uncaught);
}

void ta_sched_run_ready(ta_sched *s)
{
    /* Only what was ready on entry runs now, so the loop gets to poll I/O
     * between rounds even when coroutines keep waking each other. */
    ta_coro *tail = s->ready_tail;
    while (s->ready_head) {
        ta_coro *co = s->ready_head;
        s->ready_head = co->next_ready;
        if (!s->ready_head) s->ready_tail = NULL;
        co->next_ready = NULL;
        run_one(s, co);
        if (co == tail) break;
    }
}

ta_coro *ta_coro_current(void)
{
    ta_sched *s = ta_sched_current;
    if (!s || !s->current) return NULL;
    /* A handler may run Fibers of its own; only our fiber may be suspended. */
    if (EG(active_fiber) != (zend_fiber *) s->current->fiber) return NULL;
    return s->current;
}

zend_result ta_coro_wait(ta_wait_cancel_fn cancel, void *data)
{
    ta_sched *s = ta_sched_current;
    ta_coro *co = ta_coro_current();
    if (!co) {
        zend_throw_error(NULL, "This operation must be called inside a coroutine");
        return FAILURE;
    }
    if (co->cancelled) {
        if (cancel) cancel(co, data);
        zval ex;
        ZVAL_OBJ(&ex, co->throw_in ? co->throw_in : ta_new_cancellation("Coroutine cancelled"));
        co->throw_in = NULL;
        zend_throw_exception_object(&ex);
        return FAILURE;
    }
    co->wait_cancel = cancel;
    co->wait_data = data;
    /* A coroutine that queued itself (a plain yield) stays READY. */
    if (co->state == TA_CORO_RUNNING) co->state = TA_CORO_SUSPENDED;
    zval rv;
    zend_call_known_function(fn_suspend, NULL, zend_ce_fiber, &rv, 0, NULL, NULL);
    zval_ptr_dtor(&rv);
    s->current = co;
    co->wait_cancel = NULL;
    co->wait_data = NULL;
    return EG(exception) ? FAILURE : SUCCESS;
}

void ta_coro_wake(ta_coro *co)
{
    ta_sched *s = ta_sched_current;
    if (co->state != TA_CORO_SUSPENDED) return;
    co->wait_cancel = NULL;
    co->wait_data = NULL;
    make_ready(s, co);
}

zval *ta_coro_result(ta_coro *co)
{
    return &((zend_fiber *) co->fiber)->result;
}

void ta_coro_cancel(ta_coro *co, zend_object *error, const char *why)
{
    if (co->state == TA_CORO_DONE || co->cancelled) return;
    co->cancelled = 1;
    if (!co->throw_in) {
        if (error) GC_ADDREF(error);
        co->throw_in = error ? error : ta_new_cancellation(why);
    }
    if (co->state == TA_CORO_SUSPENDED && co->started) {
        if (co->wait_cancel) co->wait_cancel(co, co->wait_data);
        co->wait_cancel = NULL;
        co->wait_data = NULL;
        make_ready(ta_sched_current, co);
    }
}

zend_object *ta_new_cancellation(const char *why)
{
    zval ex;
    object_init_ex(&ex, ta_ce_cancellation_error);
    zend_update_property_string(zend_ce_error, Z_OBJ(ex), ZEND_STRL("message"), why);
    return Z_OBJ(ex);
}
