/* Async\spawn_with(), ScopeProvider and SpawnStrategy, as php-async
 * defines them: a coroutine spawned into the Scope a provider names, a
 * strategy told before and after. */
#include "php_async_scope.h"
#include "php_async_register.h"
#include <zend_interfaces.h>
#include "stubs/php_async_spawn_with_arginfo.h"

zend_class_entry *ta_ce_scope_provider, *ta_ce_spawn_strategy;

/* The scope PHP code gets from ScopeProvider::provideScope() (NULL: the
 * current one); NULL with an exception thrown if it gave something else. */
static zend_object *provided_scope(zend_object *provider)
{
    if (provider->ce == ta_ce_scope) return provider;
    zval rv;
    zend_call_method_with_0_params(provider, provider->ce, NULL, "providescope", &rv);
    if (EG(exception)) return NULL;
    zend_object *scope = NULL;
    if (Z_TYPE(rv) == IS_OBJECT && Z_OBJCE(rv) == ta_ce_scope) scope = Z_OBJ(rv);
    else if (Z_TYPE(rv) != IS_NULL) {
        zend_type_error("%s::provideScope(): Return value must be of type ?Async\\Scope, %s returned",
                        ZSTR_VAL(provider->ce->name), zend_zval_type_name(&rv));
        zval_ptr_dtor(&rv);
        return NULL;
    }
    if (!scope) return ta_scope_of(ta_coro_current(), true);
    zval_ptr_dtor(&rv);         /* the provider keeps it alive */
    return scope;
}

static bool have_thread(void)
{
    if (ta_sched_current) return true;
    zend_throw_error(NULL, "Async\\spawn_with() needs a TrueAsync worker thread");
    return false;
}

/* {{{ Async\spawn_with(ScopeProvider $provider, callable $task, mixed ...$args): Coroutine */
ZEND_FUNCTION(Async_spawn_with)
{
    zend_object *provider;
    zval *callable, *args = NULL;
    uint32_t argc = 0;
    ZEND_PARSE_PARAMETERS_START(2, -1)
        Z_PARAM_OBJ_OF_CLASS(provider, ta_ce_scope_provider)
        Z_PARAM_ZVAL(callable)
        Z_PARAM_VARIADIC('*', args, argc)
    ZEND_PARSE_PARAMETERS_END();
    if (!zend_is_callable(callable, 0, NULL)) { zend_argument_type_error(2, "must be a valid callback"); RETURN_THROWS(); }
    if (!have_thread()) RETURN_THROWS();
    zend_object *scope = provided_scope(provider);
    if (!scope) RETURN_THROWS();
    GC_ADDREF(scope);
    ta_coro *co = ta_scope_spawn(scope, callable, argc, args, NULL, NULL);
    if (!co) { OBJ_RELEASE(scope); RETURN_THROWS(); }
    zend_object *h = ta_coroutine_handle(co, true);
    if (instanceof_function(provider->ce, ta_ce_spawn_strategy)) {
        zval zc, zs, rv;
        ZVAL_OBJ(&zc, h);
        ZVAL_OBJ(&zs, scope);
        zend_call_method_with_2_params(provider, provider->ce, NULL, "beforecoroutineenqueue", &rv, &zc, &zs);
        zval_ptr_dtor(&rv);
        if (!EG(exception)) {
            zend_call_method_with_2_params(provider, provider->ce, NULL, "aftercoroutineenqueue", &rv, &zc, &zs);
            zval_ptr_dtor(&rv);
        }
    }
    OBJ_RELEASE(scope);
    if (EG(exception)) RETURN_THROWS();
    RETURN_OBJ_COPY(h);
}

/* ---- registration ------------------------------------------------------------------ */

void ta_scope_provider_register(void)
{
    ta_ce_scope_provider = register_class_Async_ScopeProvider();
    ta_ce_spawn_strategy = register_class_Async_SpawnStrategy(ta_ce_scope_provider);
    zend_register_functions(NULL, ext_functions, NULL, MODULE_PERSISTENT);
}
