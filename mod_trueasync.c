/* mod_trueasync: Apache glue. Configuration, child start-up and the handler
 * that hands a request to a PHP worker thread and relays its response
 * through the output filters on the Apache thread that owns the request. */
#include <sys/stat.h>
#include <limits.h>
#include <stdlib.h>
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "mpm_common.h"
#include "unixd.h"
#include "apr_strings.h"
#include "util_filter.h"
#include "scoreboard.h"
#include "mod_status.h"
#include "apr_shm.h"
#include "apr_optional_hooks.h"

#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_as.h"
#include "exchange.h"
#include "notifier.h"
#include "ta_log.h"
#include "worker_pool.h"
#include "worker_stats.h"
#include "status_page.h"
#include "ta_clock.h"

#define TA_HANDLER "trueasync-worker"
#define TA_STATUS_HANDLER "trueasync-status"

/* Built with hidden visibility; only the module record is exported. */
#undef AP_MODULE_DECLARE_DATA
#define AP_MODULE_DECLARE_DATA __attribute__((visibility("default")))

module AP_MODULE_DECLARE_DATA trueasync_module;

/* The integer directives of a server, each -1 while unset, with their
 * ranges and defaults. TrueAsyncRequestTimeout is per directory. */
enum { D_THREADS, D_BUFFER, D_RETRY_AFTER, D_MAX_REQUESTS, D_MAX_WAIT, D_SLOWLOG, D_MAX_FAILURES, D_WATCH,
       D_MAX_CONCURRENCY, D_MAX_THREADS, D_IDLE_TIMEOUT, D_INTS, D_REQUEST_TIMEOUT = D_INTS };
static const struct { long lo, hi; int dflt; } d_int[D_INTS + 1] = {
    [D_THREADS] = { 1, TA_MAX_THREADS, TA_DEFAULT_THREADS }, [D_BUFFER] = { 1, 1000, TA_DEFAULT_BUFFER_SIZE },
    [D_RETRY_AFTER] = { 0, 86400, TA_DEFAULT_RETRY_AFTER }, [D_MAX_REQUESTS] = { 0, 2000000000, 0 },
    [D_MAX_WAIT] = { 0, 3600000, 0 }, [D_SLOWLOG] = { 0, 3600000, 0 },
    [D_MAX_FAILURES] = { 1, 1000000, TA_DEFAULT_MAX_FAILURES }, [D_WATCH] = { 0, 1, 0 },
    [D_MAX_CONCURRENCY] = { 1, TA_MAX_CONCURRENCY, 0 },
    [D_MAX_THREADS] = { 1, TA_MAX_THREADS, 0 },     /* 0: MIN (one-argument form) */
    [D_IDLE_TIMEOUT] = { 0, 86400, TA_DEFAULT_IDLE_TIMEOUT },
    [D_REQUEST_TIMEOUT] = { 0, 86400, 0 },
};

typedef struct {
    const char *script;
    int v[D_INTS];
    long long max_memory;   /* -1: unset */
    apr_array_header_t *ini;    /* of ta_ini */
    apr_array_header_t *sendfile;   /* of const char *: TrueAsyncSendFilePath */
    int worker_index;       /* into g_configs, set in post_config */
} ta_srv_conf;

static ta_worker_config *g_configs;
static int g_n_configs;
static ta_worker **g_workers;
static server_rec *g_main_server;

/* The status figures: one region per scoreboard slot, made by the parent
 * in post_config (so every child of the generation maps the same memory). */
static ta_stats_region g_stats = { .mine = -1 };

/* ---- configuration ---------------------------------------------------------- */

static void *create_srv_conf(apr_pool_t *p, server_rec *s)
{
    (void) s;
    ta_srv_conf *c = apr_pcalloc(p, sizeof *c);
    for (int d = 0; d < D_INTS; d++) c->v[d] = -1;
    c->max_memory = -1;
    c->ini = apr_array_make(p, 4, sizeof(ta_ini));
    c->sendfile = apr_array_make(p, 2, sizeof(const char *));
    c->worker_index = -1;
    return c;
}

static void *merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    ta_srv_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof *c);
    c->script = add->script ? add->script : base->script;
    for (int d = 0; d < D_INTS; d++) c->v[d] = add->v[d] != -1 ? add->v[d] : base->v[d];
    c->max_memory = add->max_memory != -1 ? add->max_memory : base->max_memory;
    c->ini = apr_array_append(p, base->ini, add->ini);
    c->sendfile = apr_array_append(p, base->sendfile, add->sendfile);
    c->worker_index = -1;
    return c;
}

/* Per directory: a streaming location can have no timeout while the rest
 * has one. -1: unset. */
typedef struct { int request_timeout; } ta_dir_conf;

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    (void) dir;
    ta_dir_conf *c = apr_pcalloc(p, sizeof *c);
    c->request_timeout = -1;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    ta_dir_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof *c);
    c->request_timeout = add->request_timeout != -1 ? add->request_timeout : base->request_timeout;
    return c;
}

static const char *parse_int(cmd_parms *cmd, const char *arg, long lo, long hi, int *out)
{
    if (ta_parse_int(arg, lo, hi, out) == 0) return NULL;
    return apr_psprintf(cmd->pool, "%s must be an integer between %ld and %ld, got '%s'", cmd->cmd->name, lo, hi, arg);
}

#define SRV_CONF(cmd) ((ta_srv_conf *) ap_get_module_config((cmd)->server->module_config, &trueasync_module))

static const char *cmd_worker(cmd_parms *cmd, void *dc, const char *arg)
{
    (void) dc;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    if (!path) return apr_psprintf(cmd->pool, "TrueAsyncWorker: invalid path '%s'", arg);
    apr_finfo_t fi;
    apr_status_t rv = apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool);
    if (rv != APR_SUCCESS) {
        char buf[128];
        return apr_psprintf(cmd->pool, "TrueAsyncWorker: '%s' cannot be read: %s", path,
                            apr_strerror(rv, buf, sizeof buf));
    }
    if (fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "TrueAsyncWorker: '%s' is not a regular file", path);
    if (access(path, R_OK) != 0)
        return apr_psprintf(cmd->pool, "TrueAsyncWorker: '%s' is not readable: %s", path, strerror(errno));
    SRV_CONF(cmd)->script = path;
    return NULL;
}

/* Every integer directive: cmd->info is its D_* number. */
static const char *cmd_int(cmd_parms *cmd, void *dc, const char *arg)
{
    int d = (int) (intptr_t) cmd->info;
    int *to = d == D_REQUEST_TIMEOUT ? &((ta_dir_conf *) dc)->request_timeout : &SRV_CONF(cmd)->v[d];
    return parse_int(cmd, arg, d_int[d].lo, d_int[d].hi, to);
}

/* TrueAsyncThreads MIN [MAX]: MIN threads start with each child, up to MAX
 * under load. Both are checked here, so configtest names a bad value. */
static const char *cmd_threads(cmd_parms *cmd, void *dc, const char *min, const char *max)
{
    (void) dc;
    ta_srv_conf *c = SRV_CONF(cmd);
    const char *err = parse_int(cmd, min, 1, TA_MAX_THREADS, &c->v[D_THREADS]);
    if (err || !max) {
        c->v[D_MAX_THREADS] = err ? -1 : c->v[D_THREADS];     /* one argument: MAX is MIN */
        return err;
    }
    if (ta_parse_int(max, 1, TA_MAX_THREADS, &c->v[D_MAX_THREADS]) != 0)
        return apr_psprintf(cmd->pool, "TrueAsyncThreads: MAX must be an integer between 1 and %d, got '%s'",
                            TA_MAX_THREADS, max);
    if (c->v[D_MAX_THREADS] < c->v[D_THREADS])
        return apr_psprintf(cmd->pool, "TrueAsyncThreads: MAX (%s) must be at least MIN (%s)", max, min);
    return NULL;
}

/* On|Off, parsed here (not AP_INIT_FLAG) so that the error names the value. */
static const char *cmd_flag(cmd_parms *cmd, void *dc, const char *arg)
{
    (void) dc;
    int on = strcasecmp(arg, "on") == 0;
    if (!on && strcasecmp(arg, "off") != 0)
        return apr_psprintf(cmd->pool, "%s must be On or Off, got '%s'", cmd->cmd->name, arg);
    SRV_CONF(cmd)->v[(intptr_t) cmd->info] = on;
    return NULL;
}

/* TrueAsyncMaxConcurrency: N, or auto (stored as 0: one at a time for a
 * frankenphp_handle_request() loop, no limit for onRequest()). */
static const char *cmd_concurrency(cmd_parms *cmd, void *dc, const char *arg)
{
    (void) dc;
    if (strcasecmp(arg, "auto") == 0) {
        SRV_CONF(cmd)->v[D_MAX_CONCURRENCY] = 0;
        return NULL;
    }
    if (ta_parse_int(arg, 1, TA_MAX_CONCURRENCY, &SRV_CONF(cmd)->v[D_MAX_CONCURRENCY]) == 0) return NULL;
    return apr_psprintf(cmd->pool, "%s must be auto or an integer between 1 and %d, got '%s'", cmd->cmd->name,
                        TA_MAX_CONCURRENCY, arg);
}

/* A size like php.ini's: bytes, or a number with K, M or G. */
static const char *cmd_max_memory(cmd_parms *cmd, void *dc, const char *arg)
{
    (void) dc;
    if (ta_parse_size(arg, &SRV_CONF(cmd)->max_memory) == 0) return NULL;
    return apr_psprintf(cmd->pool, "%s must be a size in bytes, or with K, M or G (0 = off), got '%s'",
                        cmd->cmd->name, arg);
}

static const char *cmd_ini(cmd_parms *cmd, void *dc, const char *name, const char *value)
{
    (void) dc;
    if (!*name || strpbrk(name, " \t=;\"'[]"))
        return apr_psprintf(cmd->pool, "TrueAsyncPHPIni: invalid php.ini setting name '%s'", name);
    ta_ini *e = apr_array_push(SRV_CONF(cmd)->ini);
    e->name = apr_pstrdup(cmd->pool, name);
    e->value = apr_pstrdup(cmd->pool, value);
    return NULL;
}

/* A directory Response::sendFile() may serve from: must exist; kept as its
 * real path so the PHP side compares real paths. */
static const char *cmd_sendfile_path(cmd_parms *cmd, void *dc, const char *arg)
{
    (void) dc;
    char real[PATH_MAX];
    struct stat st;
    if (arg[0] != '/')
        return apr_psprintf(cmd->pool, "TrueAsyncSendFilePath: '%s' is not an absolute path", arg);
    if (!realpath(arg, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return apr_psprintf(cmd->pool, "TrueAsyncSendFilePath: '%s' is not an existing directory", arg);
    size_t n = strlen(real);
    while (n > 1 && real[n - 1] == '/') real[--n] = '\0';
    *(const char **) apr_array_push(SRV_CONF(cmd)->sendfile) = apr_pstrdup(cmd->pool, real);
    return NULL;
}

static const command_rec ta_cmds[] = {
    AP_INIT_TAKE1("TrueAsyncWorker", cmd_worker, NULL, RSRC_CONF,
                  "Path of the PHP worker script that calls FrankenPHP\\HttpServer::onRequest()"),
    AP_INIT_TAKE12("TrueAsyncThreads", cmd_threads, NULL, RSRC_CONF,
                  "PHP threads per Apache child for this worker: MIN [MAX] (1-256, default 2; with MAX, more "
                  "start while requests wait, up to MAX)"),
    AP_INIT_TAKE1("TrueAsyncThreadIdleTimeout", cmd_int, (void *) D_IDLE_TIMEOUT, RSRC_CONF,
                  "Seconds a PHP thread above TrueAsyncThreads MIN may serve nothing before it exits "
                  "(0-86400, 0 = never, default 10)"),
    AP_INIT_TAKE1("TrueAsyncBufferSize", cmd_int, (void *) D_BUFFER, RSRC_CONF,
                  "Requests one PHP thread holds at once, queued or running (1-1000, default 20)"),
    AP_INIT_TAKE1("TrueAsyncRetryAfter", cmd_int, (void *) D_RETRY_AFTER, RSRC_CONF,
                  "Retry-After seconds sent with 503 when all queues are full (0-86400, default 1)"),
    AP_INIT_TAKE1("TrueAsyncMaxRequests", cmd_int, (void *) D_MAX_REQUESTS, RSRC_CONF,
                  "Requests a PHP thread serves before it boots its worker script afresh (0 = never, the default)"),
    AP_INIT_TAKE1("TrueAsyncMaxMemory", cmd_max_memory, NULL, RSRC_CONF,
                  "PHP memory in use above which a PHP thread boots its worker script afresh after a request (K/M/G; 0 = off)"),
    AP_INIT_TAKE2("TrueAsyncPHPIni", cmd_ini, NULL, RSRC_CONF,
                  "A php.ini setting for this worker: name value (repeatable)"),
    AP_INIT_TAKE1("TrueAsyncRequestTimeout", cmd_int, (void *) D_REQUEST_TIMEOUT, RSRC_CONF | ACCESS_CONF,
                  "Seconds a request's handler has to end its response before it is cancelled and answered 504 (0-86400, 0 = none, the default)"),
    AP_INIT_TAKE1("TrueAsyncMaxWaitTime", cmd_int, (void *) D_MAX_WAIT, RSRC_CONF,
                  "Milliseconds a request may wait in a queue before it gets 503 (0-3600000, 0 = none, the default)"),
    AP_INIT_TAKE1("TrueAsyncSlowlogTimeout", cmd_int, (void *) D_SLOWLOG, RSRC_CONF,
                  "Milliseconds a coroutine may run without suspending before its backtrace is logged (0-3600000, 0 = off, the default)"),
    AP_INIT_TAKE1("TrueAsyncMaxConsecutiveFailures", cmd_int, (void *) D_MAX_FAILURES, RSRC_CONF,
                  "Failed boots in a row of a PHP thread before an error is logged (1-1000000, default 6)"),
    AP_INIT_TAKE1("TrueAsyncWatch", cmd_flag, (void *) D_WATCH, RSRC_CONF,
                  "On: PHP threads recycle when a file their worker script included changes (default Off)"),
    AP_INIT_TAKE1("TrueAsyncMaxConcurrency", cmd_concurrency, NULL, RSRC_CONF,
                  "Requests one PHP thread runs at once (1-1000000, or auto: 1 for a frankenphp_handle_request() "
                  "loop, no limit for HttpServer::onRequest(); the default)"),
    AP_INIT_ITERATE("TrueAsyncSendFilePath", cmd_sendfile_path, NULL, RSRC_CONF,
                    "Directories FrankenPHP\\Response::sendFile() may hand files from (repeatable)"),
    {NULL}
};

static int dval(const ta_srv_conf *c, int d) { return c->v[d] != -1 ? c->v[d] : d_int[d].dflt; }
/* TrueAsyncThreads MAX: MIN in the one-argument form. */
static int max_threads_of(const ta_srv_conf *c) { return c->v[D_MAX_THREADS] > 0 ? c->v[D_MAX_THREADS] : dval(c, D_THREADS); }

/* TrueAsyncBufferSize: when unset, 20, or fewer so that Threads x
 * BufferSize fits ThreadsPerChild (each held request keeps an Apache
 * thread waiting: a larger queue never fills and its 503 never comes). */
static int buffer_of(const ta_srv_conf *c)
{
    if (c->v[D_BUFFER] != -1) return c->v[D_BUFFER];
    int tpc = 0, threads = dval(c, D_THREADS);
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &tpc) != APR_SUCCESS || tpc <= 0) return TA_DEFAULT_BUFFER_SIZE;
    int fit = tpc / threads > 0 ? tpc / threads : 1;
    return fit < TA_DEFAULT_BUFFER_SIZE ? fit : TA_DEFAULT_BUFFER_SIZE;
}

/* The status figures of every child, in memory the parent maps before it
 * forks them: one region per scoreboard slot. Without it the module still
 * serves; the status page is empty. */
static int stats_create(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    int limit = 1;
    g_stats = (ta_stats_region) { .mine = -1 };
    if (g_n_configs == 0) return OK;
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) != APR_SUCCESS || limit < 1) limit = 1;
    size_t slot_size = ta_stats_slot_size(g_configs, g_n_configs);
    apr_status_t rv = apr_shm_create(&shm, slot_size * (size_t) limit, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, TA_LOGNO(00905)
                     "cannot create the shared memory of the status figures (%zu bytes)", slot_size * (size_t) limit);
        return OK;
    }
    g_stats = (ta_stats_region) { apr_shm_baseaddr_get(shm), slot_size, limit, -1 };
    memset(g_stats.base, 0, slot_size * (size_t) limit);
    return OK;
}

static long slot_pid(int slot)
{
    process_score *ps = ap_get_scoreboard_process(slot);
    return ps ? (long) ps->pid : 0;
}

/* One worker per distinct script; the first server naming it sets its size. */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void) plog; (void) ptemp;
    int n = 0;
    for (server_rec *v = s; v; v = v->next) n++;
    g_configs = apr_pcalloc(pconf, sizeof *g_configs * (size_t) n);
    g_n_configs = 0;
    for (server_rec *v = s; v; v = v->next) {
        ta_srv_conf *c = ap_get_module_config(v->module_config, &trueasync_module);
        if (!c->script) continue;
        int i;
        for (i = 0; i < g_n_configs; i++)
            if (strcmp(g_configs[i].script, c->script) == 0) break;
        if (i == g_n_configs) {
            ta_worker_config *w = &g_configs[g_n_configs++];
            w->script = c->script;
            w->threads = dval(c, D_THREADS);
            w->max_threads = max_threads_of(c);
            w->idle_timeout = (unsigned) dval(c, D_IDLE_TIMEOUT);
            w->buffer_size = buffer_of(c);
            w->ini = (const ta_ini *) c->ini->elts;
            w->n_ini = c->ini->nelts;
            w->max_requests = dval(c, D_MAX_REQUESTS);
            w->max_memory = c->max_memory > 0 ? c->max_memory : 0;
            w->sendfile_dirs = (const char *const *) c->sendfile->elts;
            w->n_sendfile_dirs = c->sendfile->nelts;
            w->slowlog_ms = (unsigned) dval(c, D_SLOWLOG);
            w->max_failures = dval(c, D_MAX_FAILURES);
            w->watch = dval(c, D_WATCH);
            w->max_concurrency = dval(c, D_MAX_CONCURRENCY);
            w->max_wait_ms = (unsigned) dval(c, D_MAX_WAIT);
            ta_dir_conf *d = ap_get_module_config(v->lookup_defaults, &trueasync_module);
            w->request_timeout = d && d->request_timeout > 0 ? (unsigned) d->request_timeout : 0;
            w->retry_after = dval(c, D_RETRY_AFTER);
        } else if (g_configs[i].threads != dval(c, D_THREADS) || g_configs[i].max_threads != max_threads_of(c)
                   || g_configs[i].buffer_size != buffer_of(c)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, v, TA_LOGNO(00841)
                         "TrueAsyncWorker %s is shared with an earlier server; that server's "
                         "TrueAsyncThreads/TrueAsyncBufferSize apply", c->script);
        }
        c->worker_index = i;
    }
    return stats_create(pconf, s);
}

/* ---- set-ups the module cannot work in, and its version (issue 13) ------------
 * Checked in check_config (mod_php in pre_config), which runs after the
 * whole configuration (User, ThreadsPerChild, every LoadModule) is read,
 * and also under `apachectl -t`: a refusal fails configtest and start-up. */

#ifdef TA_HAVE_BUILD_H
#include "ta_build.h"       /* TA_VERSION, written by Makefile.apxs */
#endif
#ifndef TA_VERSION
#define TA_VERSION "unknown"
#endif

/* PHP threads run beside the Apache threads that wait for them, in one
 * child: a one-thread-per-child MPM cannot hold that. */
static int refuse_unthreaded_mpm(server_rec *s)
{
    int threaded = AP_MPMQ_NOT_SUPPORTED;
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) == APR_SUCCESS && threaded != AP_MPMQ_NOT_SUPPORTED)
        return OK;
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, s, TA_LOGNO(00950)
                 "mod_trueasync needs a threaded MPM (event or worker), but this server runs the %s MPM: "
                 "its PHP threads and the Apache threads waiting on them share each child. Switch the MPM "
                 "(Debian: a2dismod mpm_%s && a2enmod mpm_event) or do not load trueasync_module",
                 ap_show_mpm(), ap_show_mpm());
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* mod_php's module record is named after its source file (mod_php.c,
 * mod_php7.c, ...), whatever path it was compiled from. */
static int is_mod_php(const module *m)
{
    const char *base = m->name ? strrchr(m->name, '/') : NULL;
    base = base ? base + 1 : m->name;
    return base && strncmp(base, "mod_php", 7) == 0 && strcmp(base + strlen(base) - 2, ".c") == 0;
}

/* Two PHP engines in one process share every symbol name: whichever loaded
 * first serves both, with the other's globals. Run in pre_config, first,
 * before mod_php's own pre_config refuses a threaded MPM in its own words;
 * every LoadModule has been read by then. (mod_php loaded before this
 * module makes the dynamic linker refuse it first: trueasync.load and
 * conf/trueasync.conf check for php_module before loading it.) */
static int refuse_mod_php(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void) pconf; (void) plog; (void) ptemp;
    for (module *m = ap_top_module; m; m = m->next) {
        if (m == &trueasync_module || !is_mod_php(m)) continue;
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, NULL, TA_LOGNO(00951)
                     "mod_php (php_module, %s) is loaded in this server too: two PHP engines cannot share one "
                     "process. Disable one of them (Debian: a2dismod php8.2, or a2dismod trueasync)", m->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Whether v is the first server naming script (whose sizes apply). */
static int first_naming(server_rec *s, server_rec *v, const char *script)
{
    for (server_rec *u = s; u != v; u = u->next) {
        ta_srv_conf *e = ap_get_module_config(u->module_config, &trueasync_module);
        if (e->script && strcmp(e->script, script) == 0) return 0;
    }
    return 1;
}

/* cmd_worker checked the script as the user reading the configuration;
 * the PHP threads load it after the children dropped to User. */
static int refuse_unreadable_workers(server_rec *s)
{
    if (geteuid() != 0) return OK;
    for (server_rec *v = s; v; v = v->next) {
        ta_srv_conf *c = ap_get_module_config(v->module_config, &trueasync_module);
        if (!c->script || !first_naming(s, v, c->script)) continue;
        int err = ta_access_as(c->script, ap_unixd_config.user_id, ap_unixd_config.group_id,
                               ap_unixd_config.user_name);
        if (err <= 0) continue;
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_ERR, 0, v, TA_LOGNO(00952)
                     "TrueAsyncWorker %s is not readable by user %s (Apache's User), whom the PHP threads run "
                     "as: %s. Let that user read the file and search every directory above it (e.g. chmod o+r "
                     "on the file, o+x on the directories) or change User",
                     c->script, ap_unixd_config.user_name, strerror(err));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Each request a PHP thread holds keeps one Apache thread waiting, so a
 * worker's queues can never hold more than ThreadsPerChild requests: a
 * larger Threads x BufferSize never fills, and its 503 never comes. */
static void warn_unreachable_buffer(server_rec *s)
{
    int tpc = 0;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &tpc) != APR_SUCCESS || tpc <= 0) return;
    for (server_rec *v = s; v; v = v->next) {
        ta_srv_conf *c = ap_get_module_config(v->module_config, &trueasync_module);
        if (!c->script || !first_naming(s, v, c->script)) continue;
        /* at MAX threads; an unset TrueAsyncBufferSize fits MIN (the queues
         * hold the load while more threads start) and is not warned about */
        int threads = max_threads_of(c);
        if (c->v[D_BUFFER] == -1 && threads > dval(c, D_THREADS)) continue;
        long held = (long) threads * buffer_of(c);
        if (held <= tpc) continue;
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, v, TA_LOGNO(00953)
                     "TrueAsyncWorker %s: TrueAsyncThreads %d x TrueAsyncBufferSize %d = %ld requests, more "
                     "than ThreadsPerChild %d Apache threads can ever hold (each held request keeps one "
                     "waiting): that queue size is never reached and the 503 with Retry-After never comes. "
                     "Lower TrueAsyncBufferSize to %d or raise ThreadsPerChild to %ld",
                     c->script, threads, buffer_of(c), held, tpc, tpc / threads > 0 ? tpc / threads : 1, held);
    }
}

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void) pconf; (void) plog; (void) ptemp;
    if (refuse_unthreaded_mpm(s) != OK || refuse_unreadable_workers(s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    warn_unreachable_buffer(s);
    return OK;
}

/* Shown in the Server header only under ServerTokens Full (httpd locks
 * the banner otherwise). */
static int add_version(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void) plog; (void) ptemp; (void) s;
    ap_add_version_component(pconf, "mod_trueasync/" TA_VERSION);
    return OK;
}

/* ---- process life ------------------------------------------------------------ */

static void log_sink(const char *file, int line, int level, int status, const char *msg)
{
    ap_log_error_(file, line, APLOG_MODULE_INDEX, level, status, g_main_server, "%s", msg);
}

static apr_status_t child_cleanup(void *data)
{
    (void) data;
    ta_pool_stop();
    g_workers = NULL;
    return APR_SUCCESS;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    g_main_server = s;
    ta_log_set_sink(log_sink, ap_get_server_module_loglevel(s, APLOG_MODULE_INDEX));
    if (g_n_configs == 0) return;
    ta_worker **workers = apr_pcalloc(pchild, sizeof *workers * (size_t) g_n_configs);
    ta_child_stats *mine = ta_stats_claim(&g_stats, slot_pid, 2000);
    if (g_stats.base && !mine)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, TA_LOGNO(00906) "child %" APR_PID_T_FMT
                     " found no scoreboard slot of its own; the status page does not show it", getpid());
    if (ta_pool_start(g_configs, g_n_configs, mine, workers) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, TA_LOGNO(00842)
                     "PHP workers could not start in this child; TrueAsync requests get 503");
        apr_pool_cleanup_register(pchild, NULL, child_cleanup, apr_pool_cleanup_null);
        return;
    }
    g_workers = workers;
    apr_pool_cleanup_register(pchild, NULL, child_cleanup, apr_pool_cleanup_null);
}

static void graceful_timeout_hit(unsigned held)
{
    ap_log_error(APLOG_MARK, held ? APLOG_NOTICE : APLOG_INFO, 0, g_main_server, TA_LOGNO(00853)
                 "child %" APR_PID_T_FMT ": GracefulShutdownTimeout (%d s) has passed; cancelling %u "
                 "PHP request(s) still in flight or queued", getpid(), ap_graceful_shutdown_timeout, held);
}

/* The MPM tells us before it waits for its worker threads. A graceful stop
 * lets in-flight requests finish (each holds an Apache thread, so the MPM
 * waits for them as for its own requests) until GracefulShutdownTimeout, if
 * set; an ungraceful one (stop) cancels them now, so their finally blocks
 * run and the child exits before the parent kills it. A child in its
 * graceful phase does not react to the parent's SIGTERM once that timeout
 * is over, so the module keeps the deadline itself; it has no way to tell
 * a graceful restart from a graceful stop and applies it to both. */
static void child_stopping(apr_pool_t *pchild, int graceful)
{
    (void) pchild;
    if (!g_workers) return;
    unsigned held = ta_pool_held();
    if (graceful) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, g_main_server, TA_LOGNO(00851)
                     "child %" APR_PID_T_FMT " stopping gracefully: %u PHP request(s) in flight or "
                     "queued are served first", getpid(), held);
        if (ap_graceful_shutdown_timeout > 0) {
            int rc = ta_pool_cancel_after((unsigned) ap_graceful_shutdown_timeout * 1000u, graceful_timeout_hit);
            if (rc)
                ap_log_error(APLOG_MARK, APLOG_ERR, rc, g_main_server, TA_LOGNO(00854)
                             "cannot watch GracefulShutdownTimeout; requests still running then are "
                             "ended by the parent's SIGKILL");
        }
        return;
    }
    ap_log_error(APLOG_MARK, held ? APLOG_NOTICE : APLOG_INFO, 0, g_main_server, TA_LOGNO(00852)
                 "child %" APR_PID_T_FMT " stopping now: cancelling %u PHP request(s) in flight or queued",
                 getpid(), held);
    /* cancelled at once by the deadline thread, which then ends the child
     * if a request still holds its thread past the grace */
    if (ta_pool_cancel_after(0, NULL) != 0) ta_pool_cancel_all();
}

/* ---- the handler --------------------------------------------------------------- */

static __thread ta_notifier *tl_notifier;

static ta_notifier *thread_notifier(request_rec *r)
{
    if (!tl_notifier) {
        /* One per Apache thread for its lifetime: it only ever waits on one
         * request at a time. */
        ta_notifier *n = malloc(sizeof *n);
        int rc = n ? ta_notifier_init(n, TA_NOTIFIER_AUTO) : ENOMEM;
        if (rc) {
            free(n);
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rc, r, TA_LOGNO(00843) "cannot create a notifier");
            return NULL;
        }
        tl_notifier = n;
    }
    return tl_notifier;
}

static int busy(request_rec *r, const ta_srv_conf *c)
{
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%d", dval(c, D_RETRY_AFTER)));
    return HTTP_SERVICE_UNAVAILABLE;
}

static int read_body(request_rec *r, char **body, size_t *len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int eos = 0;
    *body = NULL;
    *len = 0;
    while (!eos) {
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ, 65536);
        if (rv != APR_SUCCESS) {
            free(buf);
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (apr_bucket *b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            if (APR_BUCKET_IS_EOS(b)) { eos = 1; break; }
            if (APR_BUCKET_IS_METADATA(b)) continue;
            const char *data;
            apr_size_t dlen;
            rv = apr_bucket_read(b, &data, &dlen, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) { free(buf); return HTTP_BAD_REQUEST; }
            if (n + dlen > cap) {
                size_t ncap = cap ? cap : 16384;
                while (ncap < n + dlen) ncap *= 2;
                char *nb = realloc(buf, ncap);
                if (!nb) { free(buf); return HTTP_INTERNAL_SERVER_ERROR; }
                buf = nb;
                cap = ncap;
            }
            memcpy(buf + n, data, dlen);
            n += dlen;
        }
        apr_brigade_cleanup(bb);
    }
    *body = buf;
    *len = n;
    return OK;
}

typedef struct { ta_request *rq; int oom; } copy_ctx;

/* ta_strdup of a string that is there: NULL only without memory. */
static char *dup_or_flag(const char *s, int *oom)
{
    char *d = ta_strdup(s);
    if (s && !d) *oom = 1;
    return d;
}

static int copy_header(void *rec, const char *key, const char *value)
{
    copy_ctx *cc = rec;
    ta_kv *kv = &cc->rq->headers[cc->rq->n_headers++];
    kv->name = dup_or_flag(key, &cc->oom);
    kv->value = dup_or_flag(value ? value : "", &cc->oom);
    return !cc->oom;
}

/* Copies what PHP may read of the request into plain memory. -1 without
 * memory (the caller frees what was copied with the exchange). */
static int fill_request(request_rec *r, ta_request *rq)
{
    conn_rec *c = r->connection;
    int oom = 0;
    const char *host = apr_table_get(r->headers_in, "Host");
    rq->method = dup_or_flag(r->method, &oom);
    rq->uri = dup_or_flag(r->unparsed_uri, &oom);
    rq->host = dup_or_flag(host ? host : r->hostname ? r->hostname : r->server->server_hostname, &oom);
    rq->protocol = dup_or_flag(r->protocol, &oom);
    rq->scheme = dup_or_flag(ap_http_scheme(r), &oom);
    rq->remote_addr = dup_or_flag(r->useragent_ip, &oom);
    rq->remote_port = r->useragent_addr ? r->useragent_addr->port : 0;
    rq->local_addr = dup_or_flag(c->local_ip, &oom);
    rq->local_port = c->local_addr ? c->local_addr->port : 0;
    rq->server_name = dup_or_flag(ap_get_server_name(r), &oom);
    rq->document_root = dup_or_flag(ap_document_root(r), &oom);
    rq->query = dup_or_flag(r->args, &oom);
    rq->path_info = dup_or_flag(r->path_info && *r->path_info ? r->path_info : NULL, &oom);
    rq->server_admin = dup_or_flag(r->server->server_admin, &oom);
    rq->server_software = dup_or_flag(ap_get_server_banner(), &oom);
    rq->remote_user = dup_or_flag(r->user, &oom);
    rq->auth_type = dup_or_flag(r->ap_auth_type, &oom);
    rq->context_prefix = dup_or_flag(ap_context_prefix(r), &oom);
    rq->context_document_root = dup_or_flag(ap_context_document_root(r), &oom);
    rq->server_port = (int) ap_get_server_port(r);
    rq->request_time_us = (long long) r->request_time;
    const apr_array_header_t *h = apr_table_elts(r->headers_in);
    rq->headers = calloc((size_t) h->nelts + 1, sizeof *rq->headers);
    if (!rq->headers) return -1;
    copy_ctx cc = { rq, oom };
    apr_table_do(copy_header, &cc, r->headers_in, NULL);
    if (cc.oom) return -1;
    /* SetEnv, mod_rewrite's E=, mod_ssl's StdEnvVars, REDIRECT_*: what
     * Apache would give a CGI beyond the standard variables. */
    const apr_array_header_t *e = apr_table_elts(r->subprocess_env);
    if (e->nelts) {
        rq->env = calloc((size_t) e->nelts, sizeof *rq->env);
        if (!rq->env) return -1;
        const apr_table_entry_t *ent = (const apr_table_entry_t *) e->elts;
        for (int i = 0; i < e->nelts; i++) {
            if (!ent[i].key) continue;
            ta_kv *kv = &rq->env[rq->n_env++];
            kv->name = dup_or_flag(ent[i].key, &oom);
            kv->value = dup_or_flag(ent[i].val ? ent[i].val : "", &oom);
        }
    }
    return oom ? -1 : 0;
}

/* Response::sendFile(): Apache serves the file as its default handler
 * would: sendfile, Last-Modified/ETag and conditional requests, Range
 * (the byterange filter), the type from mod_mime unless PHP set one. */
static int send_file(request_rec *r, const char *path, int *body_started)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv = apr_file_open(&f, path, APR_READ | APR_BINARY | APR_SENDFILE_ENABLED, 0, r->pool);
    if (rv != APR_SUCCESS || apr_file_info_get(&fi, APR_FINFO_NORM, f) != APR_SUCCESS || fi.filetype != APR_REG) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, TA_LOGNO(00859) "Response::sendFile(): cannot open %s", path);
        return HTTP_NOT_FOUND;
    }
    r->filename = apr_pstrdup(r->pool, path);
    r->finfo = fi;
    if (!r->content_type) ap_run_type_checker(r);
    if (!apr_table_get(r->headers_out, "Last-Modified")) {
        ap_update_mtime(r, fi.mtime);
        ap_set_last_modified(r);
    }
    if (!apr_table_get(r->headers_out, "ETag")) ap_set_etag(r);
    if (r->status == HTTP_OK) {
        apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");
        int cond = ap_meets_conditions(r);
        if (cond != OK) return cond;
    }
    ap_set_content_length(r, fi.size);
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (r->header_only) apr_file_close(f);
    else apr_brigade_insert_file(bb, f, 0, fi.size, r->pool);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    *body_started = 1;
    rv = ap_pass_brigade(r->output_filters, bb);
    if (rv != APR_SUCCESS) { r->connection->aborted = 1; r->connection->keepalive = AP_CONN_CLOSE; }
    return OK;
}

/* 103 Early Hints and other 1xx responses, with their own headers, before
 * the final head (Apache leaves them out for HTTP/1.0 clients). */
static void send_interims(request_rec *r, ta_interim *list)
{
    for (ta_interim *i = list; i; i = i->next) {
        apr_table_t *saved = r->headers_out;
        int status = r->status;
        r->headers_out = apr_table_make(r->pool, (int) i->n_headers + 1);
        for (size_t k = 0; k < i->n_headers; k++)
            apr_table_add(r->headers_out, i->headers[k].name, i->headers[k].value);
        r->status = i->status;
        ap_send_interim_response(r, 1);
        r->headers_out = saved;
        r->status = status;
    }
    ta_interims_free(list);
}

static void apply_head(request_rec *r, ta_take *t, const char *status_line)
{
    r->status = t->status;
    /* PHP's reason phrase (httpd checks it matches r->status); an unknown
     * code keeps its number rather than httpd's "500 Internal Server Error" */
    if (status_line[0]) r->status_line = apr_pstrdup(r->pool, status_line);
    else if (atoi(ap_get_status_line(r->status)) != r->status) r->status_line = apr_psprintf(r->pool, "%d ", r->status);
    for (size_t i = 0; i < t->n_headers; i++) {
        const char *n = t->headers[i].name, *v = t->headers[i].value;
        if (strcasecmp(n, "Content-Type") == 0)
            ap_set_content_type(r, apr_pstrdup(r->pool, v));
        else if (strcasecmp(n, "Content-Length") == 0)
            apr_table_set(r->headers_out, n, v);
        else
            apr_table_add(r->headers_out, n, v);
    }
    ta_kv_free(t->headers, t->n_headers);
    t->headers = NULL;
}

/* Passes one take's chunks down the filters (its head is applied already).
 * A response complete before anything went out gets Content-Length instead
 * of chunked encoding. False: the client went away (the exchange is
 * aborted). */
static bool pass_take(request_rec *r, ta_exchange *ex, ta_take *t, apr_bucket_brigade *bb, int *body_started)
{
    conn_rec *c = r->connection;
    if (t->ended && !*body_started && r->status != HTTP_NO_CONTENT
        && r->status != HTTP_NOT_MODIFIED && r->status >= 200)
        ap_set_content_length(r, (apr_off_t) t->bytes);
    for (ta_chunk *ch = t->chunks; ch; ch = ch->next)
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_transient_create(ch->data, ch->len, c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, t->ended ? apr_bucket_eos_create(c->bucket_alloc)
                                         : apr_bucket_flush_create(c->bucket_alloc));
    *body_started = 1;
    apr_status_t rv = ap_pass_brigade(r->output_filters, bb);
    apr_brigade_cleanup(bb);
    ta_chunks_free(t->chunks);
    t->chunks = NULL;
    if (rv != APR_SUCCESS || c->aborted) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, TA_LOGNO(00844)
                      "client went away while the response was being sent");
        ta_exchange_abort(ex);
        return false;
    }
    ta_exchange_consumed(ex, t->bytes);
    return true;
}

/* The client hung up while PHP had the request: a queued one is taken back
 * (its slot is free at once), a running one is cancelled. */
static void client_left(request_rec *r, ta_exchange *ex)
{
    if (ta_worker_withdraw(ex)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TA_LOGNO(00855)
                      "client closed the connection while its request was queued; slot freed");
        ta_exchange_release(ex);            /* the PHP side's: it never had it */
    } else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, TA_LOGNO(00847)
                      "client closed the connection; cancelling its PHP coroutine");
        ta_exchange_abort(ex);
    }
    r->connection->keepalive = AP_CONN_CLOSE;
    r->connection->aborted = 1;
}

/* The client's socket, watched for hang-ups while PHP works. An HTTP/2
 * stream (secondary connection) has none of its own: watch the
 * connection's (polling it only reports, it consumes nothing); a reset
 * stream shows up as a failed pass. */
static int client_fd(conn_rec *c)
{
    int fd = -1;
    apr_socket_t *sock = ap_get_conn_socket(c->master ? c->master : c);
    if (sock) apr_os_sock_get(&fd, sock);
    return fd;
}

/* Relays what PHP produces until the response ends, the PHP side fails, or
 * the client goes away. */
/* For the access log (%{trueasync-queue-us}n, %{trueasync-thread}n) and
 * the figures, before the exchange is let go. */
static void note_exchange(request_rec *r, ta_worker *w, ta_exchange *ex)
{
    apr_table_setn(r->notes, "trueasync-thread", apr_itoa(r->pool, ta_worker_thread_of(ex)));
    if (ex->started_us)
        apr_table_setn(r->notes, "trueasync-queue-us",
                       apr_psprintf(r->pool, "%" APR_UINT64_T_FMT, (apr_uint64_t) (ex->started_us - ex->req.dispatched_us)));
    if (ex->wait_expired) ta_stat_add(&ta_worker_stats_of(w)->rejected[TA_REJECT_WAIT_TIME], 1);
}

static int relay(request_rec *r, const ta_srv_conf *conf, ta_worker *w, ta_exchange *ex, ta_notifier *n)
{
    conn_rec *c = r->connection;
    int fd = client_fd(c), body_started = 0, rc = OK, refused = 0;
    uint64_t wait_until = ex->req.max_wait_ms ? ex->req.dispatched_us + (uint64_t) ex->req.max_wait_ms * 1000u : 0;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, c->bucket_alloc);
    for (;;) {
        ta_take t;
        ta_exchange_take(ex, &t);
        if (t.interims) send_interims(r, t.interims);
        if (t.status > 0 && t.failed) {
            /* PHP could not produce a response: Apache answers the error
             * (its error page, or the admin's ErrorDocument). */
            ta_chunks_free(t.chunks);
            ta_kv_free(t.headers, t.n_headers);
            rc = t.status == HTTP_SERVICE_UNAVAILABLE ? busy(r, conf) : t.status;
            break;
        }
        if (t.status > 0) apply_head(r, &t, ex->status_line);
        if (t.file) {
            ta_chunks_free(t.chunks);
            rc = send_file(r, t.file, &body_started);
            free(t.file);
            break;
        }
        if ((t.status > 0 || t.chunks || t.ended) && !pass_take(r, ex, &t, bb, &body_started)) break;
        if (t.failed) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(00845)
                          "the PHP side failed after the response began; closing the connection");
            c->keepalive = AP_CONN_CLOSE;
            c->aborted = 1;
            break;
        }
        if (t.ended) break;
        if (t.status > 0) wait_until = 0;
        short rev = 0;
        int tmo = ta_worker_wait_check(ex, &wait_until, &refused);
        if (refused) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, TA_LOGNO(00907)
                          "request waited %u ms in the queue of a busy PHP thread (TrueAsyncMaxWaitTime): 503",
                          ex->req.max_wait_ms);
            ta_stat_add(&ta_worker_stats_of(w)->rejected[TA_REJECT_WAIT_TIME], 1);
            rc = busy(r, conf);
            break;
        }
        if (ta_worker_wait(ex, n, tmo, fd, POLLRDHUP, &rev) < 0 && errno != EINTR) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, TA_LOGNO(00846) "waiting for PHP failed");
            ta_exchange_abort(ex);
            rc = body_started ? OK : HTTP_INTERNAL_SERVER_ERROR;
            break;
        }
        if (rev & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
            client_left(r, ex);
            break;
        }
    }
    note_exchange(r, w, ex);
    ta_exchange_detach_apache(ex);
    return rc;
}

static int refuse(request_rec *r, const ta_srv_conf *conf, ta_worker *w, int cause)
{
    if (w) ta_stat_add(&ta_worker_stats_of(w)->rejected[cause], 1);
    return busy(r, conf);
}

static int status_handler(request_rec *r);

static int ta_handler(request_rec *r)
{
    if (r->handler && strcmp(r->handler, TA_STATUS_HANDLER) == 0) return status_handler(r);
    if (!r->handler || strcmp(r->handler, TA_HANDLER) != 0) return DECLINED;
    ta_srv_conf *conf = ap_get_module_config(r->server->module_config, &trueasync_module);
    if (!conf->script || conf->worker_index < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, TA_LOGNO(00848)
                      "SetHandler " TA_HANDLER " is used but no TrueAsyncWorker is configured for this server");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ta_worker *w = g_workers ? g_workers[conf->worker_index] : NULL;
    if (!w) return busy(r, conf);
    /* Refuse before reading a body we would throw away. */
    if (!ta_worker_has_room(w))
        return refuse(r, conf, w, ta_worker_alive(w) ? TA_REJECT_QUEUES_FULL : TA_REJECT_UNAVAILABLE);
    uint64_t t0 = ta_now_us();

    ta_notifier *n = thread_notifier(r);
    if (!n) return HTTP_INTERNAL_SERVER_ERROR;
    char *body;
    size_t body_len;
    int rc = read_body(r, &body, &body_len);
    if (rc != OK) return rc;

    ta_exchange *ex = ta_exchange_new();
    if (!ex) { free(body); return HTTP_INTERNAL_SERVER_ERROR; }
    ex->req.body = body;
    ex->req.body_len = body_len;
    if (fill_request(r, &ex->req) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, ENOMEM, r, TA_LOGNO(00857) "out of memory copying the request for PHP");
        ta_exchange_release(ex);
        ta_exchange_release(ex);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* no drain: a wake-up left over from the thread's last request only
     * makes relay() look once more */
    ex->wake_apache = n;
    const ta_dir_conf *dc = ap_get_module_config(r->per_dir_config, &trueasync_module);
    ex->req.timeout_ms = dc && dc->request_timeout > 0 ? (unsigned) dc->request_timeout * 1000u : 0;
    ex->req.max_wait_ms = (unsigned) dval(conf, D_MAX_WAIT);
    ex->req.dispatched_us = ta_now_us();

    int d = ta_worker_dispatch(w, ex);
    if (d == TA_DISPATCH_OK) {
        rc = relay(r, conf, w, ex, n);
        ta_stats_observe(ta_worker_stats_of(w), ta_now_us() - t0);
        return rc;
    }
    ta_exchange_release(ex);
    ta_exchange_release(ex);
    return refuse(r, conf, w, d == TA_DISPATCH_FULL ? TA_REJECT_QUEUES_FULL : TA_REJECT_UNAVAILABLE);
}

/* ---- no filesystem for the worker's URLs ---------------------------------------- */

/* A URL that its <Location> (or <If>, or the server) hands to the worker
 * maps to no file, as a proxied one: after the location walk, translate_name
 * marks it, and map_to_storage then skips core's directory and file walk
 * (one stat per path segment of a URL with no file behind it, .htaccess
 * probes). <Directory>, <Files> and .htaccess do not apply to it. TRACE is
 * left to core. */
static int claim_worker_url(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    if (!d->expr_handler || r->proxyreq || r->method_number == M_TRACE) return DECLINED;
    const char *err = NULL, *h = ap_expr_str_exec(r, d->expr_handler, &err);
    if (!err && h && strcasecmp(h, TA_HANDLER) == 0)
        ap_set_module_config(r->request_config, &trueasync_module, (void *) r);
    return DECLINED;
}

static int skip_storage(request_rec *r)
{
    return ap_get_module_config(r->request_config, &trueasync_module) == r ? OK : DECLINED;
}

/* ---- the status page ------------------------------------------------------------ */

static apr_status_t free_text(void *p) { free(p); return APR_SUCCESS; }

static int send_status(request_rec *r, int format)
{
    ta_child_stats **children = apr_pcalloc(r->pool, sizeof *children * (size_t) (g_stats.slots + 1));
    int n = ta_stats_live(&g_stats, slot_pid, children);
    size_t len = 0;
    char *text = ta_status_render(format, g_configs, g_n_configs, children, n, &len);
    if (!text) return HTTP_INTERNAL_SERVER_ERROR;
    apr_pool_cleanup_register(r->pool, text, free_text, apr_pool_cleanup_null);
    if (r->header_only) return OK;
    ap_rwrite(text, (int) len, r);
    return OK;
}

static int status_handler(request_rec *r)
{
    if (r->method_number != M_GET) return HTTP_METHOD_NOT_ALLOWED;
    const char *type;
    int format = ta_status_format(r->args, &type);
    ap_set_content_type(r, type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return send_status(r, format);
}

/* mod_status's /server-status: a short section, or lines for ?auto. */
static int status_hook(request_rec *r, int flags)
{
    if (!g_n_configs) return OK;
    return send_status(r, (flags & AP_STATUS_SHORT) ? TA_STATUS_AUTO : TA_STATUS_SUMMARY);
}

static void register_hooks(apr_pool_t *p)
{
    (void) p;
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ta_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(claim_worker_url, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_map_to_storage(skip_storage, NULL, NULL, APR_HOOK_FIRST);
    /* after the MPM's own check, which settles ThreadsPerChild */
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_pre_config(refuse_mod_php, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_post_config(add_version, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(trueasync) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf, merge_dir_conf,
    create_srv_conf,
    merge_srv_conf,
    ta_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
