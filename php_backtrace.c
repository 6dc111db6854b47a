#include "php_common.h"
#include "php_backtrace.h"

#include <stdio.h>

int ta_php_backtrace(char *buf, size_t cap)
{
    size_t n = 0;
    int i = 0;
    buf[0] = '\0';
    for (zend_execute_data *ex = EG(current_execute_data); ex; ex = ex->prev_execute_data) {
        zend_function *f = ex->func;
        if (!f) continue;
        const char *cls = f->common.scope ? ZSTR_VAL(f->common.scope->name) : "";
        const char *name = f->common.function_name ? ZSTR_VAL(f->common.function_name) : "{main}";
        /* below this are the scheduler's own frames, not the coroutine's */
        if (!ZEND_USER_CODE(f->type) && strcmp(name, "runner") == 0 && strcmp(cls, "Async\\Coroutine") == 0) break;
        int w;
        if (ZEND_USER_CODE(f->type))
            w = snprintf(buf + n, cap - n, "%s#%d %s%s%s() %s:%u", i ? "; " : "", i, cls, *cls ? "::" : "",
                         name, ZSTR_VAL(f->op_array.filename), ex->opline ? ex->opline->lineno : 0);
        else
            w = snprintf(buf + n, cap - n, "%s#%d %s%s%s() [internal]", i ? "; " : "", i, cls, *cls ? "::" : "", name);
        i++;
        if (w < 0 || (size_t) w >= cap - n) { n = cap - 1; break; }
        n += (size_t) w;
    }
    buf[n] = '\0';
    return i;
}
