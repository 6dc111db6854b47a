/* A request's own error and exception handlers and error_reporting (see
 * php_request_errors.h). */
#include "php_request_errors.h"
#include <main/php_globals.h>

#define SWAP(T, a, b) do { T tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

static void copy_stack(zend_stack *to, const zend_stack *from, bool zvals)
{
    zend_stack_init(to, from->size);
    char *base = zend_stack_base(from);
    for (int i = 0; i < zend_stack_count(from); i++) {
        void *el = base + (size_t) i * (size_t) from->size;
        if (zvals) Z_TRY_ADDREF_P((zval *) el);
        zend_stack_push(to, el);
    }
}

static void init_from_thread(ta_errors_state *s)
{
    s->init = true;
    s->level = EG(error_reporting);
    s->handler_level = EG(user_error_handler_error_reporting);
    ZVAL_COPY(&s->handler, &EG(user_error_handler));
    ZVAL_COPY(&s->exception_handler, &EG(user_exception_handler));
    copy_stack(&s->handlers, &EG(user_error_handlers), true);
    copy_stack(&s->handler_levels, &EG(user_error_handlers_error_reporting), false);
    copy_stack(&s->exception_handlers, &EG(user_exception_handlers), true);
    s->handling = EH_NORMAL;
    s->exception_class = NULL;
}

void ta_request_errors_exchange(ta_errors_state *s)
{
    if (!s->init) init_from_thread(s);
    SWAP(int, EG(error_reporting), s->level);
    SWAP(int, EG(user_error_handler_error_reporting), s->handler_level);
    SWAP(zval, EG(user_error_handler), s->handler);
    SWAP(zval, EG(user_exception_handler), s->exception_handler);
    SWAP(zend_stack, EG(user_error_handlers), s->handlers);
    SWAP(zend_stack, EG(user_error_handlers_error_reporting), s->handler_levels);
    SWAP(zend_stack, EG(user_exception_handlers), s->exception_handlers);
    SWAP(int, PG(last_error_type), s->last_type);
    SWAP(int, PG(last_error_lineno), s->last_line);
    SWAP(zend_string *, PG(last_error_message), s->last_message);
    SWAP(zend_string *, PG(last_error_file), s->last_file);
    SWAP(zend_error_handling_t, EG(error_handling), s->handling);
    SWAP(zend_class_entry *, EG(exception_class), s->exception_class);
}

static void zval_el_dtor(void *el) { zval_ptr_dtor((zval *) el); }

void ta_request_errors_free(ta_errors_state *s)
{
    if (!s->init) return;
    s->init = false;
    zval_ptr_dtor(&s->handler);
    zval_ptr_dtor(&s->exception_handler);
    ZVAL_UNDEF(&s->handler);
    ZVAL_UNDEF(&s->exception_handler);
    zend_stack_clean(&s->handlers, zval_el_dtor, 1);
    zend_stack_destroy(&s->handlers);
    zend_stack_destroy(&s->handler_levels);
    zend_stack_clean(&s->exception_handlers, zval_el_dtor, 1);
    zend_stack_destroy(&s->exception_handlers);
    if (s->last_message) zend_string_release(s->last_message);
    if (s->last_file) zend_string_release(s->last_file);
    s->last_message = s->last_file = NULL;
    s->last_type = s->last_line = 0;
}
