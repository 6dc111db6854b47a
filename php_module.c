#include "php_common.h"
#include "php_module.h"
#include "php_http_api.h"
#include "php_request_ini.h"
#include "php_async_register.h"
#include "php_blocking.h"
#include "php_pgsql_yield.h"
#include "php_stream_yield.h"
#include "php_stream_funcs.h"
#include "php_proc_yield.h"
#include "php_signals.h"
#include "php_request_session.h"
#include "php_request_date.h"
#include "php_request_cwd.h"
#include "php_request_random.h"
#include "php_request_globals.h"
#include "php_request_zlib.h"
#include "php_db_guard.h"
#include "php_stream_guard.h"
#include "php_curl_guard.h"
#include "php_pdo_pool.h"
#include "coro_bailout.h"
#include "scheduler.h"
#include "reactor_apr.h"
#include "ta_async_api.h"

#include <ext/standard/info.h>

/* Each file registers its own classes and functions (the register_class_*()
 * and tables gen_stub.php made of its stubs/<file>.stub.php); an interface
 * or a parent class comes before the classes that use it. */
static void register_api(void)
{
    ta_async_exceptions_register();
    ta_async_api_register();
    ta_coroutine_register();
    ta_finally_register();
    ta_await_register();
    ta_scope_provider_register();
    ta_scope_register();
    ta_context_register();
    ta_future_register();
    ta_taskgroup_register();
    ta_channel_register();
    ta_pool_register();
    ta_runtime_register();
    ta_fswatch_register();
    ta_http_api_register();
    ta_http_request_register();
    ta_http_response_register();
    ta_http_classic_install();
}

static PHP_MINIT_FUNCTION(trueasync)
{
    register_api();
    ta_request_ini_install();
    ta_blocking_hooks_install();
    ta_pgsql_yield_install();
    ta_stream_yield_install();
    ta_stream_select_install();
    ta_proc_yield_install();
    ta_signals_hooks_install();
    ta_request_session_install();
    ta_rglobals_minit();
    ta_request_zlib_minit();
    ta_request_date_minit();
    ta_request_cwd_install();
    ta_request_random_install();
    ta_bailout_install();
    ta_sched_guard_fibers();
    ta_db_guard_install();
    ta_stream_guard_install();
    ta_curl_guard_install();
    ta_pdo_pool_install();
    if (!ta_reactor_register()) {
        php_error_docref(NULL, E_CORE_ERROR, "Cannot register the TrueAsync reactor");
        return FAILURE;
    }
    /* OPcache only enables itself for SAPI names it knows, and checks the
     * name when it starts, which is after this. Our name comes back once
     * start-up is over (PHP_SAPI was registered before this point). */
    sapi_module.name = "apache2handler";
    return SUCCESS;
}

/* Each boot of a worker script starts with no database handle held. */
static PHP_RINIT_FUNCTION(trueasync)
{
    ta_db_guard_rinit();
    ta_stream_guard_rinit();
    ta_curl_guard_rinit();
    ta_pdo_pool_rinit();
    return SUCCESS;
}

void ta_module_run_end(void)
{
    ta_db_guard_run_end();
    ta_stream_guard_run_end();
    ta_curl_guard_run_end();
}

static PHP_MINFO_FUNCTION(trueasync)
{
    php_info_print_table_start();
    php_info_print_table_row(2, "mod_trueasync", "enabled");
    php_info_print_table_end();
}

/* The database guards wrap these extensions' classes: they start first. */
static const zend_module_dep ta_module_deps[] = {
    ZEND_MOD_OPTIONAL("pdo")
    ZEND_MOD_OPTIONAL("pdo_mysql")
    ZEND_MOD_OPTIONAL("pdo_sqlite")
    ZEND_MOD_OPTIONAL("mysqli")
    ZEND_MOD_OPTIONAL("pgsql")
    ZEND_MOD_OPTIONAL("pdo_pgsql")
    ZEND_MOD_OPTIONAL("redis")   /* started first, so its class can be guarded */
    ZEND_MOD_OPTIONAL("curl")
    ZEND_MOD_END
};

zend_module_entry ta_module_entry = {
    STANDARD_MODULE_HEADER_EX, NULL,
    ta_module_deps,
    "trueasync",
    NULL,                       /* functions: each file registers its own */
    PHP_MINIT(trueasync),
    NULL, PHP_RINIT(trueasync), NULL,
    PHP_MINFO(trueasync),
    "0.1.0",
    STANDARD_MODULE_PROPERTIES
};

