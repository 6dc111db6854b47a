/* mod_trueasync: Apache glue. The hooks (child start-up and stop) and the
 * handler that hands a request to a PHP worker thread and relays its
 * response through the output filters on the Apache thread that owns the
 * request. The directives are in mod_trueasync_config.c, the status page
 * in mod_trueasync_status.c. */
#include <stdlib.h>
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mpm_common.h"
#include "apr_strings.h"
#include "util_filter.h"
#include "mod_status.h"
#include "apr_optional_hooks.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "exchange.h"
#include "notifier.h"
#include "ta_log.h"
#include "worker_pool.h"
#include "worker_stats.h"
#include "ta_clock.h"
#include "mod_trueasync_private.h"

#define TA_HANDLER "trueasync-worker"

static ta_worker **g_workers;
static server_rec *g_main_server;

/* ---- start-up in the parent ---------------------------------------------------- */

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    (void) plog; (void) ptemp;
    ta_mod_collect_workers(pconf, s);
    ta_mod_status_create(pconf, s);
    return OK;
}

#ifdef TA_HAVE_BUILD_H
#include "ta_build.h"       /* TA_VERSION, written by Makefile.apxs */
#endif
#ifndef TA_VERSION
#define TA_VERSION "unknown"
#endif

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
    ta_worker_pool_stop();
    g_workers = NULL;
    return APR_SUCCESS;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    g_main_server = s;
    ta_log_set_sink(log_sink, ap_get_server_module_loglevel(s, APLOG_MODULE_INDEX));
    int n_configs;
    const ta_worker_config *configs = ta_mod_workers(&n_configs);
    if (n_configs == 0) return;
    ta_worker **workers = apr_pcalloc(pchild, sizeof *workers * (size_t) n_configs);
    ta_child_stats *mine = ta_mod_status_claim(s);
    if (ta_worker_pool_start(configs, n_configs, mine, workers) != 0) {
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
    unsigned held = ta_worker_pool_held();
    if (graceful) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, g_main_server, TA_LOGNO(00851)
                     "child %" APR_PID_T_FMT " stopping gracefully: %u PHP request(s) in flight or "
                     "queued are served first", getpid(), held);
        if (ap_graceful_shutdown_timeout > 0) {
            int rc = ta_worker_pool_cancel_after((unsigned) ap_graceful_shutdown_timeout * 1000u, graceful_timeout_hit);
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
    if (ta_worker_pool_cancel_after(0, NULL) != 0) ta_worker_pool_cancel_all();
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
                   apr_psprintf(r->pool, "%d", ta_mod_conf_int(c, D_RETRY_AFTER)));
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

static int ta_handler(request_rec *r)
{
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
    ex->req.max_wait_ms = (unsigned) ta_mod_conf_int(conf, D_MAX_WAIT);
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

static void register_hooks(apr_pool_t *p)
{
    (void) p;
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_stopping(child_stopping, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ta_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ta_mod_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(claim_worker_url, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_map_to_storage(skip_storage, NULL, NULL, APR_HOOK_FIRST);
    /* after the MPM's own check, which settles ThreadsPerChild */
    ap_hook_check_config(ta_mod_check_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_pre_config(ta_mod_refuse_mod_php, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_post_config(add_version, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, ta_mod_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(trueasync) = {
    STANDARD20_MODULE_STUFF,
    ta_mod_create_dir_conf, ta_mod_merge_dir_conf,
    ta_mod_create_srv_conf,
    ta_mod_merge_srv_conf,
    ta_mod_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
