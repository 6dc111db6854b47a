#include "harness.h"

#include <sapi/embed/php_embed.h>
#include <strings.h>
#include <string.h>

ZEND_TSRMLS_CACHE_DEFINE()

static uv_timer_t guard;
static bool guard_ready;

/* ---- recording callbacks --------------------------------------------------- */

typedef struct {
    zend_async_event_callback_t base;
    rec *r;
} rec_cb;

static void rec_fire(zend_async_event_t *event, zend_async_event_callback_t *cb, void *result,
                     zend_object *exception)
{
    rec *r = ((rec_cb *) cb)->r;
    r->calls++;
    r->result = result;
    if (exception) {
        if (r->exception) OBJ_RELEASE(r->exception);
        GC_ADDREF(exception);
        r->exception = exception;
    }
    if (r->hook) r->hook(r, event, result, exception);
}

static void rec_dispose(zend_async_event_callback_t *cb, zend_async_event_t *event)
{
    (void) event;
    ((rec_cb *) cb)->r->disposed++;
    efree(cb);
}

zend_async_event_callback_t *rec_callback(rec *r)
{
    rec_cb *cb = ecalloc(1, sizeof *cb);
    cb->base.callback = rec_fire;
    cb->base.dispose = rec_dispose;
    cb->r = r;
    return &cb->base;
}

void rec_clear(rec *r)
{
    if (r->exception) OBJ_RELEASE(r->exception);
    r->exception = NULL;
}

/* ---- PHP and reactor start-up ------------------------------------------------ */

const zend_function_entry *harness_functions;

static PHP_MINIT_FUNCTION(reactor_test)
{
    (void) module_number;
    ta_async_exceptions_register();     /* as the module's MINIT does */
    if (harness_functions && zend_register_functions(NULL, harness_functions, NULL, type) != SUCCESS) return FAILURE;
    return ta_reactor_register() ? SUCCESS : FAILURE;
}

static void (*test_body)(void);

static ZEND_FUNCTION(reactor_test_body)
{
    ZEND_PARSE_PARAMETERS_NONE();
    (void) return_value;
    test_body();
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_reactor_test_body, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry reactor_test_functions[] = {
    ZEND_FE(reactor_test_body, arginfo_reactor_test_body)
    ZEND_FE_END
};

static zend_module_entry reactor_test_module = {
    STANDARD_MODULE_HEADER,
    "reactor_test",
    reactor_test_functions,
    PHP_MINIT(reactor_test),
    NULL, NULL, NULL, NULL,
    "0",
    STANDARD_MODULE_PROPERTIES
};

static int test_sapi_startup(sapi_module_struct *sm)
{
    return php_module_startup(sm, &reactor_test_module);
}

static void harness_boot(int argc, char **argv)
{
    php_embed_module.startup = test_sapi_startup;
    php_embed_module.php_ini_ignore = 1;    /* hermetic: no php.ini */
    if (php_embed_init(argc, argv) != SUCCESS) {
        printf("Bail out! php_embed_init failed\n");
        exit(255);
    }
    ZEND_TSRMLS_CACHE_UPDATE();
    harness_reactor_up();
}

void harness_reactor_up(void)
{
    if (!ZEND_ASYNC_REACTOR_STARTUP()) {
        printf("Bail out! reactor startup failed\n");
        exit(255);
    }
    uv_timer_init(ta_reactor_loop(), &guard);
    guard_ready = true;
}

void harness_reactor_down(bool abandon)
{
    /* The guard is a foreign handle on the loop: shutdown closes it. */
    if (abandon) ta_reactor_abandon(); else ZEND_ASYNC_REACTOR_SHUTDOWN();
    guard_ready = false;
    /* Its stale queue links would point into other handles' memory and
     * make LeakSanitizer count leaked events as reachable. */
    memset(&guard, 0, sizeof guard);
}

int harness_run(int argc, char **argv, void (*body)(void))
{
    volatile int bailed = 0;
    harness_boot(argc, argv);
    test_body = body;
    zend_try {
        zend_eval_stringl(ZEND_STRL("reactor_test_body();"), NULL, "reactor test");
    } zend_catch {
        printf("Bail out! PHP bailed out of the test body\n");
        bailed = 1;
    } zend_end_try();
    harness_reactor_down(false);
    php_embed_shutdown();
    return bailed;
}

/* ---- running the loop -------------------------------------------------------- */

uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

static void guard_fired(uv_timer_t *t) { (void) t; }

void harness_tick(uint64_t deadline)
{
    uint64_t now = now_ms();
    if (now >= deadline) return;
    /* Armed on a fresh loop clock and repeating, so that the poll never
     * waits past the deadline however slow the run (valgrind). */
    if (guard_ready) {
        uv_update_time(ta_reactor_loop());
        uv_timer_start(&guard, guard_fired, deadline - now, 1);
    }
    ZEND_ASYNC_REACTOR_EXECUTE(false);
    if (guard_ready) uv_timer_stop(&guard);
}

/* ---- exceptions ------------------------------------------------------------------ */

zend_object *take_exception(void)
{
    zend_object *ex = EG(exception);
    if (!ex) return NULL;
    GC_ADDREF(ex);
    zend_clear_exception();
    return ex;
}

bool is_instance(zend_object *obj, zend_class_entry *ce)
{
    return obj && ce && instanceof_function(obj->ce, ce);
}

const char *exception_message(zend_object *ex)
{
    zval rv;
    zval *msg = zend_read_property_ex(zend_get_exception_base(ex), ex, ZSTR_KNOWN(ZEND_STR_MESSAGE), 1, &rv);
    return Z_TYPE_P(msg) == IS_STRING ? Z_STRVAL_P(msg) : "";
}

zend_long exception_code(zend_object *ex)
{
    zval rv;
    zval *code = zend_read_property_ex(zend_get_exception_base(ex), ex, ZSTR_KNOWN(ZEND_STR_CODE), 1, &rv);
    return Z_TYPE_P(code) == IS_LONG ? Z_LVAL_P(code) : 0;
}

bool contains(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = haystack; *p; p++) {
        if (strncasecmp(p, needle, n) == 0) return true;
    }
    return n == 0;
}
