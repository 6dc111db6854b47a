#include "php_common.h"
#include "php_sapi.h"
#include "ta_log.h"
#include "php_request_globals.h"

#include <syslog.h>

#ifdef TA_HAVE_BUILD_H
#include "ta_build.h"   /* the installed build's TA_PHP_INI_PATH, TA_PHP_EXTENSION_DIR */
#endif

ZEND_TSRMLS_CACHE_DEFINE()

/* Worker defaults; php.ini and TrueAsyncPHPIni come on top where allowed.
 * Errors go to the log, never into a response body. */
static const char ta_hardcoded_ini[] =
    "html_errors=0\n"
    "display_errors=0\n"
    "log_errors=1\n"
    "implicit_flush=0\n"
    "output_buffering=0\n"
    "max_execution_time=0\n"
    "max_input_time=-1\n"
    "register_argc_argv=0\n"
    "zend_extension=opcache.so\n"
#ifdef TA_PHP_EXTENSION_DIR
    /* the private copy of the extensions: the build's own path is gone */
    "extension_dir=" TA_PHP_EXTENSION_DIR "\n"
#endif
    "opcache.enable=1\n";

static zend_module_entry *module_entry;
static size_t (*output_sink)(const char *str, size_t len);

static size_t ta_ub_write(const char *str, size_t len)
{
    return output_sink(str, len);
}

static void (*flush_fn)(void *server_context);

void ta_sapi_set_flush_handler(void (*fn)(void *server_context)) { flush_fn = fn; }

/* flush(): what the request wrote so far is handed over already; tell
 * Apache now rather than when the thread next waits. */
static void ta_flush(void *server_context) { if (flush_fn && server_context) flush_fn(server_context); }

static int ta_send_headers(sapi_headers_struct *h) { (void) h; return SAPI_HEADER_SENT_SUCCESSFULLY; }

static ta_header_fn header_fn;

void ta_sapi_set_header_handler(ta_header_fn fn) { header_fn = fn; }

/* header(), setcookie(), session cookies...: the request's response keeps
 * them, not SAPI's list. */
static int ta_header_handler(sapi_header_struct *h, sapi_header_op_enum op, sapi_headers_struct *hs)
{
    (void) hs;
    return header_fn ? header_fn(h, op) : SAPI_HEADER_ADD;
}

static size_t ta_read_post(char *buf, size_t len) { return ta_rglobals_read_post(buf, len); }

/* set into request_info by the request's globals */
static char *ta_read_cookies(void) { return NULL; }

static void ta_register_variables(zval *track_vars_array)
{
    ta_rglobals_register_server(track_vars_array);
}

static void ta_log_message(const char *msg, int syslog_type)
{
    int level = TA_LOG_NOTICE;
    switch (syslog_type) {
    case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: level = TA_LOG_ERR; break;
    case LOG_WARNING: level = TA_LOG_WARNING; break;
    case LOG_INFO: level = TA_LOG_INFO; break;
    case LOG_DEBUG: level = TA_LOG_DEBUG; break;
    }
    ta_log(level, TA_LOGNO(00801) "%s", msg);
}

static int ta_sapi_startup(sapi_module_struct *sm);

static sapi_module_struct ta_sapi = {
    "trueasync",                    /* name */
    "Apache 2.4 TrueAsync worker",  /* pretty name */
    ta_sapi_startup,
    php_module_shutdown_wrapper,
    NULL, NULL,                     /* activate, deactivate */
    ta_ub_write,
    ta_flush,
    NULL, NULL,                     /* get_stat, getenv */
    php_error,
    ta_header_handler,
    ta_send_headers,
    NULL,                           /* send header */
    ta_read_post,
    ta_read_cookies,
    ta_register_variables,
    ta_log_message,
    NULL, NULL,                     /* request time (the request's is set), terminate */
    STANDARD_SAPI_MODULE_PROPERTIES
};

static int ta_sapi_startup(sapi_module_struct *sm)
{
    return php_module_startup(sm, module_entry);
}

#ifdef TA_PHP_INI_SCAN_DIR
/* The installed module's extension inis (ta-phpenmod's conf.d). PHP reads
 * the scan dir from the environment only while it starts; the old value
 * comes back, so a php CLI run by a worker still reads its own. */
static int ta_sapi_startup_scanning(sapi_module_struct *sm)
{
    const char *old = getenv("PHP_INI_SCAN_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("PHP_INI_SCAN_DIR", TA_PHP_INI_SCAN_DIR, 1);
    int rc = sm->startup(sm);
    if (saved) setenv("PHP_INI_SCAN_DIR", saved, 1);
    else unsetenv("PHP_INI_SCAN_DIR");
    free(saved);
    return rc;
}
#else
/* in place: the PHP build's own scan dir (its etc/conf.d) */
static int ta_sapi_startup_scanning(sapi_module_struct *sm) { return sm->startup(sm); }
#endif

static int started;

int ta_php_startup(zend_module_entry *module, size_t (*sink)(const char *str, size_t len))
{
    if (started) return 0;
    module_entry = module;
    output_sink = sink;
    if (!php_tsrm_startup()) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00802) "PHP thread-safe resource manager failed to start");
        return -1;
    }
    ZEND_TSRMLS_CACHE_UPDATE();
    zend_signal_startup();
    sapi_startup(&ta_sapi);
    ta_sapi.ini_entries = malloc(sizeof ta_hardcoded_ini);
    if (!ta_sapi.ini_entries) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00858) "out of memory starting PHP");
        return -1;
    }
    memcpy(ta_sapi.ini_entries, ta_hardcoded_ini, sizeof ta_hardcoded_ini);
    sapi_module.ini_entries = ta_sapi.ini_entries;
#ifdef TA_PHP_INI_PATH
    /* the installed module's php.ini under /etc, not the PHP build's */
    sapi_module.php_ini_path_override = (char *) TA_PHP_INI_PATH;
#endif
    if (ta_sapi_startup_scanning(&sapi_module) == FAILURE) {
        ta_log(TA_LOG_ERR, TA_LOGNO(00803) "PHP module start-up failed");
        return -1;
    }
    sapi_module.name = "trueasync";
    started = 1;
    return 0;
}

void ta_php_shutdown(void)
{
    if (!started) return;
    php_module_shutdown();
    sapi_shutdown();
    tsrm_shutdown();
    free(ta_sapi.ini_entries);
    ta_sapi.ini_entries = NULL;
    started = 0;
}
