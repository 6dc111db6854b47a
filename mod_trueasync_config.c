/* mod_trueasync_config.c: the directives, each server's and directory's
 * configuration, the table of workers they make, and the checks that fail
 * configtest and start-up on a set-up the module cannot work in. */
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_mpm.h"
#include "unixd.h"
#include "apr_strings.h"

#include "access_as.h"
#include "ta_log.h"
#include "worker_config.h"
#include "worker_dispatch.h"     /* TA_MAX_THREADS */
#include "mod_trueasync_private.h"

APLOG_USE_MODULE(trueasync);

/* Each integer directive's range and default (-1 in the conf: unset). */
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

/* The workers of this generation, one per distinct script: made in
 * post_config, read by the status page and by each child. */
static ta_worker_config *g_configs;
static int g_n_configs;

/* ---- configuration ---------------------------------------------------------- */

void *ta_mod_create_srv_conf(apr_pool_t *p, server_rec *s)
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

void *ta_mod_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
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

void *ta_mod_create_dir_conf(apr_pool_t *p, char *dir)
{
    (void) dir;
    ta_dir_conf *c = apr_pcalloc(p, sizeof *c);
    c->request_timeout = -1;
    return c;
}

void *ta_mod_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
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

const command_rec ta_mod_cmds[] = {
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

int ta_mod_conf_int(const ta_srv_conf *c, int d) { return c->v[d] != -1 ? c->v[d] : d_int[d].dflt; }

/* TrueAsyncThreads MAX: MIN in the one-argument form. */
static int max_threads_of(const ta_srv_conf *c)
{
    return c->v[D_MAX_THREADS] > 0 ? c->v[D_MAX_THREADS] : ta_mod_conf_int(c, D_THREADS);
}

/* TrueAsyncBufferSize: when unset, 20, or fewer so that Threads x
 * BufferSize fits ThreadsPerChild (each held request keeps an Apache
 * thread waiting: a larger queue never fills and its 503 never comes). */
static int buffer_of(const ta_srv_conf *c)
{
    if (c->v[D_BUFFER] != -1) return c->v[D_BUFFER];
    int tpc = 0, threads = ta_mod_conf_int(c, D_THREADS);
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &tpc) != APR_SUCCESS || tpc <= 0) return TA_DEFAULT_BUFFER_SIZE;
    int fit = tpc / threads > 0 ? tpc / threads : 1;
    return fit < TA_DEFAULT_BUFFER_SIZE ? fit : TA_DEFAULT_BUFFER_SIZE;
}

/* ---- the workers ---------------------------------------------------------------- */

/* One worker per distinct script; the first server naming it sets its size. */
void ta_mod_collect_workers(apr_pool_t *pconf, server_rec *s)
{
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
            w->threads = ta_mod_conf_int(c, D_THREADS);
            w->max_threads = max_threads_of(c);
            w->idle_timeout = (unsigned) ta_mod_conf_int(c, D_IDLE_TIMEOUT);
            w->buffer_size = buffer_of(c);
            w->ini = (const ta_ini *) c->ini->elts;
            w->n_ini = c->ini->nelts;
            w->max_requests = ta_mod_conf_int(c, D_MAX_REQUESTS);
            w->max_memory = c->max_memory > 0 ? c->max_memory : 0;
            w->sendfile_dirs = (const char *const *) c->sendfile->elts;
            w->n_sendfile_dirs = c->sendfile->nelts;
            w->slowlog_ms = (unsigned) ta_mod_conf_int(c, D_SLOWLOG);
            w->max_failures = ta_mod_conf_int(c, D_MAX_FAILURES);
            w->watch = ta_mod_conf_int(c, D_WATCH);
            w->max_concurrency = ta_mod_conf_int(c, D_MAX_CONCURRENCY);
            w->max_wait_ms = (unsigned) ta_mod_conf_int(c, D_MAX_WAIT);
            ta_dir_conf *d = ap_get_module_config(v->lookup_defaults, &trueasync_module);
            w->request_timeout = d && d->request_timeout > 0 ? (unsigned) d->request_timeout : 0;
            w->retry_after = ta_mod_conf_int(c, D_RETRY_AFTER);
        } else if (g_configs[i].threads != ta_mod_conf_int(c, D_THREADS)
                   || g_configs[i].max_threads != max_threads_of(c) || g_configs[i].buffer_size != buffer_of(c)) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, v, TA_LOGNO(00841)
                         "TrueAsyncWorker %s is shared with an earlier server; that server's "
                         "TrueAsyncThreads/TrueAsyncBufferSize apply", c->script);
        }
        c->worker_index = i;
    }
}

const ta_worker_config *ta_mod_workers(int *n)
{
    *n = g_n_configs;
    return g_configs;
}

/* ---- set-ups the module cannot work in (issue 13) ------------------------------
 * Checked in check_config (mod_php in pre_config), which runs after the
 * whole configuration (User, ThreadsPerChild, every LoadModule) is read,
 * and also under `apachectl -t`: a refusal fails configtest and start-up. */

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
int ta_mod_refuse_mod_php(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
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
        if (c->v[D_BUFFER] == -1 && threads > ta_mod_conf_int(c, D_THREADS)) continue;
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

int ta_mod_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void) pconf; (void) plog; (void) ptemp;
    if (refuse_unthreaded_mpm(s) != OK || refuse_unreadable_workers(s) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    warn_unreachable_buffer(s);
    return OK;
}
