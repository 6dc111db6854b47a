/* Async\Context and the context functions (current_context,
 * coroutine_context, root_context, request_context), as php-async defines
 * them: values keyed by string or object, held by a scope or a coroutine;
 * lookups go on up the scope tree (php_async_scope.c). */
#include "php_async_scope.h"
#include "php_async_register.h"
#include "stubs/php_async_context_arginfo.h"

zend_class_entry *ta_ce_context;
static zend_object_handlers h_context;

typedef struct {
    HashTable vals;             /* string keys */
    HashTable ovals, okeys;     /* object keys: handle => value, handle => key */
    zend_object *up;            /* the scope lookups continue at; held */
    zend_object std;
} ta_context_obj;

#define CTX(o) OBJ_OF(ta_context_obj, o)

/* ---- Context ------------------------------------------------------------------ */

static zend_object *context_create(zend_class_entry *ce)
{
    ta_context_obj *o = ta_object_new(sizeof *o, ce, &h_context);
    zend_hash_init(&o->vals, 0, NULL, ZVAL_PTR_DTOR, 0);
    zend_hash_init(&o->ovals, 0, NULL, ZVAL_PTR_DTOR, 0);
    zend_hash_init(&o->okeys, 0, NULL, ZVAL_PTR_DTOR, 0);
    return &o->std;
}

static void context_free(zend_object *obj)
{
    ta_context_obj *o = CTX(obj);
    zend_hash_destroy(&o->vals);
    zend_hash_destroy(&o->ovals);
    zend_hash_destroy(&o->okeys);
    if (o->up) OBJ_RELEASE(o->up);
    zend_object_std_dtor(obj);
}

static HashTable *context_get_gc(zend_object *obj, zval **table, int *n)
{
    ta_context_obj *o = CTX(obj);
    zend_get_gc_buffer *buf = zend_get_gc_buffer_create();
    zval *v;
    ZEND_HASH_FOREACH_VAL(&o->vals, v) { zend_get_gc_buffer_add_zval(buf, v); } ZEND_HASH_FOREACH_END();
    ZEND_HASH_FOREACH_VAL(&o->ovals, v) { zend_get_gc_buffer_add_zval(buf, v); } ZEND_HASH_FOREACH_END();
    ZEND_HASH_FOREACH_VAL(&o->okeys, v) { zend_get_gc_buffer_add_zval(buf, v); } ZEND_HASH_FOREACH_END();
    if (o->up) zend_get_gc_buffer_add_obj(buf, o->up);
    zend_get_gc_buffer_use(buf, table, n);
    return NULL;
}

zend_object *ta_context_new(zend_object *up)
{
    zval z;
    object_init_ex(&z, ta_ce_context);
    if (up) { CTX(Z_OBJ(z))->up = up; GC_ADDREF(up); }
    return Z_OBJ(z);
}

zend_object *ta_coroutine_context(ta_coro *co)
{
    if (!co->context) co->context = ta_context_new(ta_scope_of(co, true));
    return co->context;
}

static zval *ctx_local(ta_context_obj *o, zval *key)
{
    if (Z_TYPE_P(key) == IS_STRING) return zend_hash_find(&o->vals, Z_STR_P(key));
    return zend_hash_index_find(&o->ovals, Z_OBJ_HANDLE_P(key));
}

/* This context, then those of the scopes above it (a scope without one is
 * passed over). */
static zval *ctx_find(ta_context_obj *o, zval *key)
{
    zval *v = ctx_local(o, key);
    for (zend_object *s = o->up; !v && s; s = ta_scope_parent(s))
        if (ta_scope_context_if_any(s)) v = ctx_local(CTX(ta_scope_context_if_any(s)), key);
    return v;
}

#define CTX_KEY_PARAM(key) \
    zval *key; \
    ZEND_PARSE_PARAMETERS_START(1, 1) \
        Z_PARAM_ZVAL(key) \
    ZEND_PARSE_PARAMETERS_END(); \
    if (Z_TYPE_P(key) != IS_STRING && Z_TYPE_P(key) != IS_OBJECT) { \
        zend_argument_type_error(1, "must be of type object|string, %s given", zend_zval_type_name(key)); \
        RETURN_THROWS(); \
    }

static void throw_missing(zval *key)
{
    if (Z_TYPE_P(key) == IS_STRING)
        zend_throw_exception_ex(ta_ce_context_exception, 0, "Context key \"%s\" not found", Z_STRVAL_P(key));
    else
        zend_throw_exception_ex(ta_ce_context_exception, 0, "Context key of type %s not found", ZSTR_VAL(Z_OBJCE_P(key)->name));
}

ZEND_METHOD(Async_Context, find) { CTX_KEY_PARAM(key); zval *v = ctx_find(CTX(Z_OBJ_P(ZEND_THIS)), key); if (v) RETURN_COPY(v); RETURN_NULL(); }
ZEND_METHOD(Async_Context, get) { CTX_KEY_PARAM(key); zval *v = ctx_find(CTX(Z_OBJ_P(ZEND_THIS)), key); if (v) RETURN_COPY(v); throw_missing(key); RETURN_THROWS(); }
ZEND_METHOD(Async_Context, has) { CTX_KEY_PARAM(key); RETURN_BOOL(ctx_find(CTX(Z_OBJ_P(ZEND_THIS)), key) != NULL); }
ZEND_METHOD(Async_Context, findLocal) { CTX_KEY_PARAM(key); zval *v = ctx_local(CTX(Z_OBJ_P(ZEND_THIS)), key); if (v) RETURN_COPY(v); RETURN_NULL(); }
ZEND_METHOD(Async_Context, getLocal) { CTX_KEY_PARAM(key); zval *v = ctx_local(CTX(Z_OBJ_P(ZEND_THIS)), key); if (v) RETURN_COPY(v); throw_missing(key); RETURN_THROWS(); }
ZEND_METHOD(Async_Context, hasLocal) { CTX_KEY_PARAM(key); RETURN_BOOL(ctx_local(CTX(Z_OBJ_P(ZEND_THIS)), key) != NULL); }

/* {{{ Context::set(string|object $key, mixed $value, bool $replace = false): Context */
ZEND_METHOD(Async_Context, set)
{
    zval *key, *value;
    bool replace = false;
    ZEND_PARSE_PARAMETERS_START(2, 3)
        Z_PARAM_ZVAL(key)
        Z_PARAM_ZVAL(value)
        Z_PARAM_OPTIONAL
        Z_PARAM_BOOL(replace)
    ZEND_PARSE_PARAMETERS_END();
    if (Z_TYPE_P(key) != IS_STRING && Z_TYPE_P(key) != IS_OBJECT) {
        zend_argument_type_error(1, "must be of type object|string, %s given", zend_zval_type_name(key));
        RETURN_THROWS();
    }
    ta_context_obj *o = CTX(Z_OBJ_P(ZEND_THIS));
    if (!replace && ctx_local(o, key)) {
        zend_throw_exception(ta_ce_context_exception, "Context key already exists and replace is false", 0);
        RETURN_THROWS();
    }
    Z_TRY_ADDREF_P(value);
    if (Z_TYPE_P(key) == IS_STRING) {
        zend_hash_update(&o->vals, Z_STR_P(key), value);
    } else {
        zend_hash_index_update(&o->ovals, Z_OBJ_HANDLE_P(key), value);
        Z_ADDREF_P(key);    /* the key object stays alive while it keys a value */
        zend_hash_index_update(&o->okeys, Z_OBJ_HANDLE_P(key), key);
    }
    RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS));
}

ZEND_METHOD(Async_Context, unset)
{
    CTX_KEY_PARAM(key);
    ta_context_obj *o = CTX(Z_OBJ_P(ZEND_THIS));
    if (Z_TYPE_P(key) == IS_STRING) zend_hash_del(&o->vals, Z_STR_P(key));
    else { zend_hash_index_del(&o->ovals, Z_OBJ_HANDLE_P(key)); zend_hash_index_del(&o->okeys, Z_OBJ_HANDLE_P(key)); }
    RETURN_OBJ_COPY(Z_OBJ_P(ZEND_THIS));
}

/* ---- functions ------------------------------------------------------------------ */

static bool have_thread(void)
{
    if (ta_sched_current) return true;
    zend_throw_error(NULL, "Async\\ contexts need a TrueAsync worker thread");
    return false;
}

/* {{{ Async\current_context(): Context — the current scope's */
ZEND_FUNCTION(Async_current_context)
{
    ZEND_PARSE_PARAMETERS_NONE();
    if (!have_thread()) RETURN_THROWS();
    RETURN_OBJ_COPY(ta_scope_context(ta_scope_of(ta_coro_current(), true)));
}

/* {{{ Async\coroutine_context(): Context — the calling coroutine's own
 * (outside coroutines: the main scope's) */
ZEND_FUNCTION(Async_coroutine_context)
{
    ZEND_PARSE_PARAMETERS_NONE();
    if (!have_thread()) RETURN_THROWS();
    ta_coro *co = ta_coro_current();
    if (!co) RETURN_OBJ_COPY(ta_scope_context(ta_scope_main(true)));
    RETURN_OBJ_COPY(ta_coroutine_context(co));
}

ZEND_FUNCTION(Async_root_context)
{
    ZEND_PARSE_PARAMETERS_NONE();
    if (!have_thread()) RETURN_THROWS();
    RETURN_OBJ_COPY(ta_scope_context(ta_scope_main(true)));
}

/* {{{ Async\request_context(): ?Context — the HTTP request's, for any
 * coroutine whose scope descends from the request's scope */
ZEND_FUNCTION(Async_request_context)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_coro *co = ta_coro_current();
    if (!co || !co->scope) RETURN_NULL();
    for (zend_object *s = ta_scope_of(co, true); s; s = ta_scope_parent(s))
        if (ta_scope_is_request(s)) RETURN_OBJ_COPY(ta_scope_context(s));
    RETURN_NULL();
}

/* ---- registration ------------------------------------------------------------------ */

void ta_context_register(void)
{
    /* Contexts only come from the functions and getContext() */
    ta_ce_context = register_class_Async_Context();
    ta_class_set_handlers(ta_ce_context, context_create, &h_context, XtOffsetOf(ta_context_obj, std),
                          context_free, true);
    h_context.get_gc = context_get_gc;
    zend_register_functions(NULL, ext_functions, NULL, MODULE_PERSISTENT);
}
