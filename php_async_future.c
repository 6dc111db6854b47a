/* Async\FutureState and Async\Future, as php-async defines them: a state
 * completed once (a value or an exception) by whoever holds the
 * FutureState, read and awaited through Futures; map(), catch() and
 * finally() chain new Futures whose callbacks run as coroutines of their
 * own once the source completed. */
#include "php_async_objects.h"
#include "php_async_scope.h"
#include "php_async_register.h"
#include "stubs/php_async_future_arginfo.h"

zend_class_entry *ta_ce_future_state, *ta_ce_future;
static zend_object_handlers h_state, h_future;

enum { CONT_MAP = 1, CONT_CATCH, CONT_FINALLY };

typedef struct ta_fcont ta_fcont;

/* Shared by the FutureState and its Futures: counted by them and by the
 * continuations and coroutines waiting to complete it. */
struct ta_fstate {
    uint32_t refs;
    bool done, ignored, used;
    bool warn_unused;           /* made by new FutureState(): php-async warns if nobody used it */
    zval result;
    zend_object *exception;
    ta_awaitable aw;
    zend_string *created_file, *completed_file;
    uint32_t created_line, completed_line;
    ta_fcont *conts;            /* what to run once it completes */
};

struct ta_fcont {
    int kind;
    zval callback;
    ta_fstate *source, *target;
    zend_object *request;       /* the request it was chained in (held) */
    ta_fcont *next;
};

typedef struct { ta_fstate *st; zend_object std; } ta_fobj;
#define FOBJ(o) OBJ_OF(ta_fobj, o)

static ta_fstate *fstate_new(void)
{
    ta_fstate *st = ecalloc(1, sizeof *st);
    st->refs = 1;
    ZVAL_NULL(&st->result);
    if (EG(current_execute_data)) {
        st->created_file = zend_get_executed_filename_ex();
        if (st->created_file) { zend_string_addref(st->created_file); st->created_line = zend_get_executed_lineno(); }
    }
    return st;
}

static void cont_free(ta_fcont *c);

static void fstate_release(ta_fstate *st)
{
    if (--st->refs) return;
    if (st->warn_unused && !st->used && !st->ignored) {
        /* php-async's words */
        if (st->created_file)
            zend_error(E_WARNING, "Future was never used; call await(), map(), catch(), finally() or ignore() "
                       "to suppress this warning. Created at %s:%u", ZSTR_VAL(st->created_file), st->created_line);
        else
            zend_error(E_WARNING, "Future was never used; call await(), map(), catch(), finally() or ignore() "
                       "to suppress this warning");
    }
    zval_ptr_dtor(&st->result);
    if (st->exception) OBJ_RELEASE(st->exception);
    if (st->created_file) zend_string_release(st->created_file);
    if (st->completed_file) zend_string_release(st->completed_file);
    while (st->conts) { ta_fcont *c = st->conts; st->conts = c->next; cont_free(c); }
    if (st->aw.waiters) efree(st->aw.waiters);
    efree(st);
}

static void cont_free(ta_fcont *c)
{
    zval_ptr_dtor(&c->callback);
    fstate_release(c->source);
    fstate_release(c->target);
    if (c->request) OBJ_RELEASE(c->request);
    efree(c);
}

static void run_conts(ta_fstate *st);

/* Takes `value` (copied) or `ex` (a reference taken). */
static void fstate_complete(ta_fstate *st, zval *value, zend_object *ex)
{
    if (st->done) return;
    st->done = true;
    if (ex) { st->exception = ex; GC_ADDREF(ex); }
    else if (value) ZVAL_COPY(&st->result, value);
    if (EG(current_execute_data)) {
        st->completed_file = zend_get_executed_filename_ex();
        if (st->completed_file) { zend_string_addref(st->completed_file); st->completed_line = zend_get_executed_lineno(); }
    }
    ta_aw_complete(&st->aw);
    run_conts(st);
}

/* A continuation's coroutine ended: its target takes the outcome. */
static void cont_done(ta_coro *co, zend_object *uncaught)
{
    ta_fcont *c = co->done_data;
    co->done_data = NULL;
    if (uncaught && c->kind == CONT_FINALLY && c->source->exception && uncaught != c->source->exception) {
        /* php-async: what finally() threw after a failure has that failure as its previous */
        GC_ADDREF(c->source->exception);
        zend_exception_set_previous(uncaught, c->source->exception);
    }
    if (uncaught) fstate_complete(c->target, NULL, uncaught);
    else if (c->kind == CONT_FINALLY) fstate_complete(c->target, &c->source->result, c->source->exception);
    else fstate_complete(c->target, ta_coro_result(co), NULL);
    cont_free(c);
}

static void run_conts(ta_fstate *st)
{
    ta_fcont *list = st->conts;
    st->conts = NULL;
    ta_sched *s = ta_sched_current;
    while (list) {
        ta_fcont *c = list;
        list = c->next;
        c->next = NULL;
        bool call = c->kind == CONT_FINALLY || (c->kind == CONT_MAP) == !st->exception;
        if (!call) {
            /* map() of a failure, catch() of a success: passed on as it is */
            fstate_complete(c->target, &st->result, st->exception);
            cont_free(c);
            continue;
        }
        st->used = true;
        zval arg;
        uint32_t argc = c->kind == CONT_FINALLY ? 0 : 1;
        if (c->kind == CONT_MAP) ZVAL_COPY_VALUE(&arg, &st->result);
        else ZVAL_OBJ(&arg, st->exception);
        ta_coro *co = s ? ta_sched_spawn(s, &c->callback, argc, &arg, c->request, cont_done) : NULL;
        if (!co) {
            zend_object *ex = EG(exception);
            if (ex) { GC_ADDREF(ex); zend_clear_exception(); }
            fstate_complete(c->target, NULL, ex ? ex : ta_new_cancellation("No TrueAsync worker thread"));
            if (ex) OBJ_RELEASE(ex);
            cont_free(c);
            continue;
        }
        co->done_data = c;
    }
}

/* ---- objects ------------------------------------------------------------------ */

static zend_object *fobj_create_with(zend_class_entry *ce, zend_object_handlers *h)
{
    ta_fobj *o = ta_object_new(sizeof *o, ce, h);
    return &o->std;
}
static zend_object *state_create(zend_class_entry *ce) { return fobj_create_with(ce, &h_state); }
static zend_object *future_create(zend_class_entry *ce) { return fobj_create_with(ce, &h_future); }

static void fobj_free(zend_object *obj)
{
    ta_fobj *o = FOBJ(obj);
    if (o->st) fstate_release(o->st);
    zend_object_std_dtor(obj);
}

static HashTable *fobj_get_gc(zend_object *obj, zval **table, int *n)
{
    ta_fobj *o = FOBJ(obj);
    zend_get_gc_buffer *buf = zend_get_gc_buffer_create();
    /* only what this object alone holds: a shared state is not ours to report */
    if (o->st && o->st->refs == 1) {
        zend_get_gc_buffer_add_zval(buf, &o->st->result);
        if (o->st->exception) zend_get_gc_buffer_add_obj(buf, o->st->exception);
    }
    zend_get_gc_buffer_use(buf, table, n);
    return NULL;
}

static zend_object *future_of(ta_fstate *st)
{
    zval z;
    object_init_ex(&z, ta_ce_future);
    FOBJ(Z_OBJ(z))->st = st;
    st->refs++;
    return Z_OBJ(z);
}

ta_awaitable *ta_future_awaitable(zend_object *obj)
{
    ta_fstate *st = FOBJ(obj)->st;
    if (st) { st->used = true; return &st->aw; }
    zend_throw_error(NULL, "This Async\\Future has no FutureState");
    return NULL;
}

void ta_future_outcome(zend_object *obj, zval *return_value)
{
    ta_fstate *st = FOBJ(obj)->st;
    st->used = true;
    if (st->exception) {
        GC_ADDREF(st->exception);
        zend_throw_exception_object(&(zval){ .value.obj = st->exception, .u1.type_info = IS_OBJECT_EX });
        return;
    }
    ZVAL_COPY(return_value, &st->result);
}

static ta_fstate *this_state(zval *this_zv)
{
    ta_fstate *st = FOBJ(Z_OBJ_P(this_zv))->st;
    if (!st) zend_throw_error(NULL, "This %s has no state", ZSTR_VAL(Z_OBJCE_P(this_zv)->name));
    return st;
}
#define STATE_OR_THROW(st) ta_fstate *st = this_state(ZEND_THIS); if (!st) RETURN_THROWS()

static void file_and_line(zval *rv, zend_string *file, uint32_t line)
{
    array_init(rv);
    if (file) add_next_index_str(rv, zend_string_copy(file)); else add_next_index_null(rv);
    add_next_index_long(rv, line);
}
static void location(zval *rv, zend_string *file, uint32_t line)
{
    if (!file) ZVAL_STRING(rv, "unknown");
    else ZVAL_STR(rv, zend_strpprintf(0, "%s:%u", ZSTR_VAL(file), line));
}

/* ---- FutureState ------------------------------------------------------------------ */

ZEND_METHOD(Async_FutureState, __construct)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_fobj *o = FOBJ(Z_OBJ_P(ZEND_THIS));
    if (o->st) { zend_throw_error(NULL, "Async\\FutureState object is already constructed"); RETURN_THROWS(); }
    o->st = fstate_new();
    o->st->warn_unused = true;
}

/* php-async's words, with where it was completed */
static bool complete_check(ta_fstate *st)
{
    if (!st->done) return true;
    zend_throw_exception_ex(ta_ce_async_exception, 0, "FutureState is already completed at %s:%u",
                            st->completed_file ? ZSTR_VAL(st->completed_file) : "Unknown", st->completed_line);
    return false;
}

ZEND_METHOD(Async_FutureState, complete)
{
    zval *value;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(value)
    ZEND_PARSE_PARAMETERS_END();
    STATE_OR_THROW(st);
    if (!complete_check(st)) RETURN_THROWS();
    fstate_complete(st, value, NULL);
}

ZEND_METHOD(Async_FutureState, error)
{
    zend_object *ex;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJ_OF_CLASS(ex, zend_ce_throwable)
    ZEND_PARSE_PARAMETERS_END();
    STATE_OR_THROW(st);
    if (!complete_check(st)) RETURN_THROWS();
    fstate_complete(st, NULL, ex);
}

/* php-async: a FutureState without a state counts as completed, a Future
 * without one as neither completed nor cancelled. */
ZEND_METHOD(Async_FutureState, isCompleted) { ZEND_PARSE_PARAMETERS_NONE(); ta_fstate *st = FOBJ(Z_OBJ_P(ZEND_THIS))->st; RETURN_BOOL(!st || st->done); }
ZEND_METHOD(Async_FutureState, ignore) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); st->ignored = true; }

/* What it waits on, as php-async describes it: its state, pending or
 * completed (none without one). */
static void awaiting_info(INTERNAL_FUNCTION_PARAMETERS)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_fstate *st = FOBJ(Z_OBJ_P(ZEND_THIS))->st;
    if (!st) RETURN_EMPTY_ARRAY();
    array_init(return_value);
    add_next_index_string(return_value, st->done ? "FutureState(completed)" : "FutureState(pending)");
}

ZEND_METHOD(Async_FutureState, getAwaitingInfo) { awaiting_info(INTERNAL_FUNCTION_PARAM_PASSTHRU); }
ZEND_METHOD(Async_FutureState, getCreatedFileAndLine) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); file_and_line(return_value, st->created_file, st->created_line); }
ZEND_METHOD(Async_FutureState, getCreatedLocation) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); location(return_value, st->created_file, st->created_line); }
ZEND_METHOD(Async_FutureState, getCompletedFileAndLine) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); file_and_line(return_value, st->completed_file, st->completed_line); }
ZEND_METHOD(Async_FutureState, getCompletedLocation) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); location(return_value, st->completed_file, st->completed_line); }

/* ---- Future ------------------------------------------------------------------ */

ZEND_METHOD(Async_Future, __construct)
{
    zend_object *state;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJ_OF_CLASS(state, ta_ce_future_state)
    ZEND_PARSE_PARAMETERS_END();
    ta_fobj *o = FOBJ(Z_OBJ_P(ZEND_THIS));
    ta_fstate *st = FOBJ(state)->st;
    if (o->st) { zend_throw_error(NULL, "Async\\Future object is already constructed"); RETURN_THROWS(); }
    if (!st) { zend_argument_value_error(1, "must be a constructed Async\\FutureState"); RETURN_THROWS(); }
    o->st = st;
    st->refs++;
}

ZEND_METHOD(Async_Future, completed)
{
    zval *value = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_ZVAL(value)
    ZEND_PARSE_PARAMETERS_END();
    ta_fstate *st = fstate_new();
    zval null;
    ZVAL_NULL(&null);
    fstate_complete(st, value ? value : &null, NULL);
    RETVAL_OBJ(future_of(st));
    fstate_release(st);
}

ZEND_METHOD(Async_Future, failed)
{
    zend_object *ex;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJ_OF_CLASS(ex, zend_ce_throwable)
    ZEND_PARSE_PARAMETERS_END();
    ta_fstate *st = fstate_new();
    fstate_complete(st, NULL, ex);
    RETVAL_OBJ(future_of(st));
    fstate_release(st);
}

ZEND_METHOD(Async_Future, isCompleted) { ZEND_PARSE_PARAMETERS_NONE(); ta_fstate *st = FOBJ(Z_OBJ_P(ZEND_THIS))->st; RETURN_BOOL(st && st->done); }

/* php-async: completed with a cancellation, by cancel() or by FutureState::error() */
ZEND_METHOD(Async_Future, isCancelled)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_fstate *st = FOBJ(Z_OBJ_P(ZEND_THIS))->st;
    RETURN_BOOL(st && st->done && st->exception && instanceof_function(st->exception->ce, ta_ce_async_cancellation));
}

/* It completes with the cancellation (default: a new AsyncCancellation). */
ZEND_METHOD(Async_Future, cancel)
{
    zend_object *error = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(error, ta_ce_async_cancellation)
    ZEND_PARSE_PARAMETERS_END();
    STATE_OR_THROW(st);
    if (st->done) return;
    zend_object *ex = error ? error : ta_new_cancellation("Future has been cancelled");
    fstate_complete(st, NULL, ex);
    if (!error) OBJ_RELEASE(ex);
}

ZEND_METHOD(Async_Future, ignore)
{
    ZEND_PARSE_PARAMETERS_NONE();
    STATE_OR_THROW(st);
    st->ignored = true;
    RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS));
}

static void chain(INTERNAL_FUNCTION_PARAMETERS, int kind)
{
    zval *cb;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_ZVAL(cb)
    ZEND_PARSE_PARAMETERS_END();
    if (!zend_is_callable(cb, 0, NULL)) { zend_argument_type_error(1, "must be a valid callback"); RETURN_THROWS(); }
    STATE_OR_THROW(st);
    st->used = true;
    ta_fcont *c = ecalloc(1, sizeof *c);
    c->kind = kind;
    ZVAL_COPY(&c->callback, cb);
    c->source = st;
    st->refs++;
    c->target = fstate_new();
    ta_sched *s = ta_sched_current;
    c->request = s && s->current ? s->current->scope : NULL;
    if (c->request) GC_ADDREF(c->request);
    RETVAL_OBJ(future_of(c->target));
    ta_fcont **at = &st->conts;     /* in the order they were chained, as php-async runs them */
    while (*at) at = &(*at)->next;
    *at = c;
    if (st->done) run_conts(st);
}

ZEND_METHOD(Async_Future, map) { chain(INTERNAL_FUNCTION_PARAM_PASSTHRU, CONT_MAP); }
ZEND_METHOD(Async_Future, catch) { chain(INTERNAL_FUNCTION_PARAM_PASSTHRU, CONT_CATCH); }
ZEND_METHOD(Async_Future, finally) { chain(INTERNAL_FUNCTION_PARAM_PASSTHRU, CONT_FINALLY); }

ZEND_METHOD(Async_Future, await)
{
    zend_object *cancel = NULL;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_OBJ_OF_CLASS_OR_NULL(cancel, ta_ce_completable)
    ZEND_PARSE_PARAMETERS_END();
    STATE_OR_THROW(st);
    (void) st;
    ta_await_one(Z_OBJ_P(ZEND_THIS), cancel, return_value);
}

ZEND_METHOD(Async_Future, getAwaitingInfo) { awaiting_info(INTERNAL_FUNCTION_PARAM_PASSTHRU); }
ZEND_METHOD(Async_Future, getCreatedFileAndLine) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); file_and_line(return_value, st->created_file, st->created_line); }
ZEND_METHOD(Async_Future, getCreatedLocation) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); location(return_value, st->created_file, st->created_line); }
ZEND_METHOD(Async_Future, getCompletedFileAndLine) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); file_and_line(return_value, st->completed_file, st->completed_line); }
ZEND_METHOD(Async_Future, getCompletedLocation) { ZEND_PARSE_PARAMETERS_NONE(); STATE_OR_THROW(st); location(return_value, st->completed_file, st->completed_line); }

/* ---- for the module: a Future completed by a coroutine -------------------------- */

static void spawned_done(ta_coro *co, zend_object *uncaught)
{
    ta_fstate *st = co->done_data;
    co->done_data = NULL;
    fstate_complete(st, uncaught ? NULL : ta_coro_result(co), uncaught);
    fstate_release(st);
}

zend_object *ta_future_from_call(zval *callable, uint32_t argc, zval *args)
{
    ta_sched *s = ta_sched_current;
    if (!s) { zend_throw_error(NULL, "Async\\Future needs a TrueAsync worker thread"); return NULL; }
    ta_coro *co = ta_sched_spawn(s, callable, argc, args, s->current ? s->current->scope : NULL, spawned_done);
    if (!co) return NULL;
    ta_fstate *st = fstate_new();
    co->done_data = st;         /* the coroutine's reference */
    zend_object *f = future_of(st);
    return f;
}

zend_object *ta_future_pending(ta_fstate **st)
{
    *st = fstate_new();
    return future_of(*st);
}

void ta_fstate_complete(ta_fstate *st, zval *value, zend_object *ex) { fstate_complete(st, value, ex); }
void ta_fstate_release(ta_fstate *st) { fstate_release(st); }
bool ta_fstate_done(ta_fstate *st) { return st->done; }

zend_object *ta_future_completed(zval *value, zend_object *ex)
{
    ta_fstate *st = fstate_new();
    fstate_complete(st, value, ex);
    zend_object *f = future_of(st);
    fstate_release(st);
    return f;
}

/* ---- registration ------------------------------------------------------------------ */

void ta_future_register(void)
{
    ta_ce_future_state = register_class_Async_FutureState();
    ta_class_set_handlers(ta_ce_future_state, state_create, &h_state, XtOffsetOf(ta_fobj, std), fobj_free, false);
    h_state.get_gc = fobj_get_gc;
    ta_ce_future = register_class_Async_Future(ta_ce_completable);
    ta_class_set_handlers(ta_ce_future, future_create, &h_future, XtOffsetOf(ta_fobj, std), fobj_free, false);
    h_future.get_gc = fobj_get_gc;
}
