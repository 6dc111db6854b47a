/* The TrueAsync reactor registry, the generic callback vector, the count
 * of abandoned reactors and every Async\ exception class. */
#include "ta_async_api.h"

#include <stdarg.h>
#include <string.h>
#include "stubs/ta_async_api_arginfo.h"

zend_async_reactor_api_t zend_async_reactor;
__thread uint32_t zend_async_active_event_count;

zend_class_entry *ta_ce_async_exception;
zend_class_entry *ta_ce_dns_exception;
zend_class_entry *ta_ce_input_output_exception;
zend_class_entry *ta_ce_async_cancellation;
zend_class_entry *ta_ce_operation_canceled;
zend_class_entry *ta_ce_deadlock_error;
zend_class_entry *ta_ce_composite_exception;
zend_class_entry *ta_ce_service_unavailable;
zend_class_entry *ta_ce_context_exception;
zend_class_entry *ta_ce_poll_exception;
zend_class_entry *ta_ce_timeout_exception;
zend_class_entry *ta_ce_channel_exception;

static __thread uint32_t reactor_generation;

/* ---- registry ------------------------------------------------------------ */

bool zend_async_reactor_register(
    const char *module,
    bool allow_override,
    zend_async_reactor_startup_t startup_fn,
    zend_async_reactor_shutdown_t shutdown_fn,
    zend_async_reactor_execute_t execute_fn,
    zend_async_reactor_loop_alive_t loop_alive_fn,
    zend_async_new_socket_event_t new_socket_event_fn,
    zend_async_new_poll_event_t new_poll_event_fn,
    zend_async_new_timer_event_t new_timer_event_fn,
    zend_async_new_signal_event_t new_signal_event_fn,
    zend_async_new_process_event_t new_process_event_fn,
    zend_async_new_thread_event_t new_thread_event_fn,
    zend_async_new_filesystem_event_t new_filesystem_event_fn,
    zend_async_getnameinfo_t getnameinfo_fn,
    zend_async_getaddrinfo_t getaddrinfo_fn,
    zend_async_freeaddrinfo_t freeaddrinfo_fn,
    zend_async_new_exec_event_t new_exec_event_fn,
    zend_async_exec_t exec_fn)
{
    if (zend_async_reactor.module != NULL && !allow_override) return false;
    zend_async_reactor_api_t r = {
        module ? module : "unnamed",
        startup_fn, shutdown_fn, execute_fn, loop_alive_fn,
        new_socket_event_fn, new_poll_event_fn, new_timer_event_fn,
        new_signal_event_fn, new_process_event_fn, new_thread_event_fn,
        new_filesystem_event_fn, getnameinfo_fn, getaddrinfo_fn,
        freeaddrinfo_fn, new_exec_event_fn, exec_fn
    };
    /* A half-filled registry would crash its first caller instead. */
    void (*const slots[])(void) = {
        (void (*)(void)) startup_fn, (void (*)(void)) shutdown_fn,
        (void (*)(void)) execute_fn, (void (*)(void)) loop_alive_fn,
        (void (*)(void)) new_socket_event_fn, (void (*)(void)) new_poll_event_fn,
        (void (*)(void)) new_timer_event_fn, (void (*)(void)) new_signal_event_fn,
        (void (*)(void)) new_process_event_fn, (void (*)(void)) new_thread_event_fn,
        (void (*)(void)) new_filesystem_event_fn, (void (*)(void)) getnameinfo_fn,
        (void (*)(void)) getaddrinfo_fn, (void (*)(void)) freeaddrinfo_fn,
        (void (*)(void)) new_exec_event_fn, (void (*)(void)) exec_fn,
    };
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        if (slots[i] == NULL) return false;
    }
    zend_async_reactor = r;
    return true;
}

bool zend_async_reactor_is_enabled(void)
{
    return zend_async_reactor.module != NULL;
}

/* ---- callback vector ----------------------------------------------------- */

void zend_async_callback_release(zend_async_event_callback_t *callback, zend_async_event_t *event)
{
    if (callback->ref_count > 1) {
        callback->ref_count--;
        return;
    }
    callback->ref_count = 0;
    if (callback->dispose) callback->dispose(callback, event);
}

void zend_async_callbacks_push(zend_async_event_t *event, zend_async_event_callback_t *callback)
{
    zend_async_callbacks_vector_t *v = &event->callbacks;
    for (uint32_t i = 0; i < v->length; i++) {
        if (v->data[i] == callback) return;
    }
    if (v->length == v->capacity) {
        uint32_t cap = v->capacity ? v->capacity * 2 : 4;
        /* Persistent, like the events: they may outlive the request heap. */
        v->data = safe_perealloc(v->data, cap, sizeof *v->data, 0, 1);
        v->capacity = cap;
    }
    v->data[v->length++] = callback;
    callback->ref_count++;
}

void zend_async_callbacks_remove(zend_async_event_t *event, zend_async_event_callback_t *callback)
{
    zend_async_callbacks_vector_t *v = &event->callbacks;
    for (uint32_t i = 0; i < v->length; i++) {
        if (v->data[i] != callback) continue;
        memmove(&v->data[i], &v->data[i + 1], (v->length - i - 1) * sizeof *v->data);
        v->length--;
        for (zend_async_callbacks_iterator_t *it = v->iterators; it; it = it->outer) {
            if (i < it->next) it->next--;
            if (i < it->end) it->end--;
        }
        zend_async_callback_release(callback, event);
        return;
    }
}

void zend_async_callbacks_notify(zend_async_event_t *event, void *result, zend_object *exception)
{
    zend_async_callbacks_vector_t *v = &event->callbacks;
    if (v->length == 0) return;
    /* A callback may release the event: the last reference goes below. */
    ZEND_ASYNC_EVENT_ADD_REF(event);
    zend_async_callbacks_iterator_t it = { 0, v->length, v->iterators };
    v->iterators = &it;
    while (it.next < it.end) {
        zend_async_event_callback_t *cb = v->data[it.next++];
        cb->ref_count++;
        cb->callback(event, cb, result, exception);
        zend_async_callback_release(cb, event);
    }
    v->iterators = it.outer;
    ZEND_ASYNC_EVENT_RELEASE(event);
}

void zend_async_callbacks_free(zend_async_event_t *event)
{
    zend_async_callbacks_vector_t *v = &event->callbacks;
    for (zend_async_callbacks_iterator_t *it = v->iterators; it; it = it->outer) {
        it->next = it->end = 0;
    }
    /* A dispose may register again; loop until the vector stays empty. */
    while (v->data != NULL) {
        zend_async_event_callback_t **data = v->data;
        uint32_t n = v->length;
        v->data = NULL;
        v->length = v->capacity = 0;
        for (uint32_t i = 0; i < n; i++) zend_async_callback_release(data[i], event);
        pefree(data, 1);
    }
}

void zend_async_event_add_callback(zend_async_event_t *event, zend_async_event_callback_t *callback)
{
    zend_async_callbacks_push(event, callback);
}

void zend_async_event_del_callback(zend_async_event_t *event, zend_async_event_callback_t *callback)
{
    zend_async_callbacks_remove(event, callback);
}

/* ---- abandoned reactors ------------------------------------------------------ */

uint32_t ta_async_reactor_generation(void) { return reactor_generation; }

void ta_async_reactor_abandoned(void) { reactor_generation++; }

/* ---- exceptions ------------------------------------------------------------ */

/* {{{ CompositeException::addException(Throwable $exception): void */
ZEND_METHOD(Async_CompositeException, addException)
{
    zval *ex;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_OBJECT_OF_CLASS(ex, zend_ce_throwable)
    ZEND_PARSE_PARAMETERS_END();
    (void) return_value;
    ta_composite_add(Z_OBJ_P(ZEND_THIS), Z_OBJ_P(ex));
}

/* {{{ CompositeException::getExceptions(): array */
ZEND_METHOD(Async_CompositeException, getExceptions)
{
    ZEND_PARSE_PARAMETERS_NONE();
    zval rv, *list = zend_read_property(ta_ce_composite_exception, Z_OBJ_P(ZEND_THIS), ZEND_STRL("exceptions"), 1, &rv);
    if (Z_TYPE_P(list) == IS_ARRAY) RETURN_COPY(list);
    RETURN_EMPTY_ARRAY();
}

void ta_composite_add(zend_object *composite, zend_object *ex)
{
    zval rv, *list = zend_read_property(ta_ce_composite_exception, composite, ZEND_STRL("exceptions"), 1, &rv);
    zval arr;
    if (Z_TYPE_P(list) == IS_ARRAY) ZVAL_ARR(&arr, zend_array_dup(Z_ARRVAL_P(list)));
    else array_init(&arr);
    GC_ADDREF(ex);
    add_next_index_object(&arr, ex);
    zend_update_property(ta_ce_composite_exception, composite, ZEND_STRL("exceptions"), &arr);
    zval_ptr_dtor(&arr);
}

/* php-async's tree. Its root \Cancellation is a core class of TrueAsync's
 * PHP; PHP 8.2 has none and a Throwable must extend Exception or Error, so
 * the module gives \Cancellation as an Error (catch (Exception) does not
 * swallow a cancellation). */
void ta_async_exceptions_register(void)
{
    zend_class_entry *root = register_class_Cancellation(zend_ce_error);
    ta_ce_async_cancellation = register_class_Async_AsyncCancellation(root);
    ta_ce_operation_canceled = register_class_Async_OperationCanceledException(ta_ce_async_cancellation);
    ta_ce_async_exception = register_class_Async_AsyncException(zend_ce_exception);
    ta_ce_input_output_exception = register_class_Async_InputOutputException(zend_ce_exception);
    ta_ce_dns_exception = register_class_Async_DnsException(zend_ce_exception);
    ta_ce_timeout_exception = register_class_Async_TimeoutException(zend_ce_exception);
    ta_ce_poll_exception = register_class_Async_PollException(zend_ce_exception);
    ta_ce_deadlock_error = register_class_Async_DeadlockError(zend_ce_error);
    ta_ce_service_unavailable = register_class_Async_ServiceUnavailableException(ta_ce_async_exception);
    ta_ce_composite_exception = register_class_Async_CompositeException(zend_ce_exception);
    ta_ce_channel_exception = register_class_Async_ChannelException(ta_ce_async_exception);
    ta_ce_context_exception = register_class_Async_ContextException(ta_ce_async_exception);
}

zend_object *ta_async_new_exception(zend_class_entry *ce, zend_long code, const char *format, ...)
{
    zval ex, tmp;
    va_list ap;

    if (ce == NULL) ce = ta_ce_async_exception ? ta_ce_async_exception : zend_ce_exception;
    object_init_ex(&ex, ce);
    zend_class_entry *base = zend_get_exception_base(Z_OBJ(ex));

    va_start(ap, format);
    ZVAL_STR(&tmp, zend_vstrpprintf(0, format, ap));
    va_end(ap);
    zend_update_property_ex(base, Z_OBJ(ex), ZSTR_KNOWN(ZEND_STR_MESSAGE), &tmp);
    zval_ptr_dtor(&tmp);
    if (code != 0) {
        ZVAL_LONG(&tmp, code);
        zend_update_property_ex(base, Z_OBJ(ex), ZSTR_KNOWN(ZEND_STR_CODE), &tmp);
    }
    return Z_OBJ(ex);
}
