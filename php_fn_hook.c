#include "php_fn_hook.h"

void ta_hook_functions(const ta_fn_hook *hooks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        zend_function *fn = zend_hash_str_find_ptr(CG(function_table), hooks[i].name, strlen(hooks[i].name));
        /* Absent (disabled or not built): nothing to hook. Installed twice
         * (a second start-up): keep the first original. */
        if (!fn || fn->type != ZEND_INTERNAL_FUNCTION || fn->internal_function.handler == hooks[i].wrapper)
            continue;
        *hooks[i].orig = fn->internal_function.handler;
        fn->internal_function.handler = hooks[i].wrapper;
    }
}
