/* What the files of the Apache glue share: mod_trueasync.c (hooks, handler,
 * relay), mod_trueasync_config.c (directives, configuration, configtest
 * checks) and mod_trueasync_status.c (the status page). Include it after
 * httpd.h and http_config.h: like them, only mod_trueasync*.c see it. All
 * of it runs on Apache threads. */
#ifndef TA_MOD_TRUEASYNC_PRIVATE_H
#define TA_MOD_TRUEASYNC_PRIVATE_H

#include "worker_config.h"
#include "worker_stats.h"

/* Built with hidden visibility; only the module record is exported. */
#undef AP_MODULE_DECLARE_DATA
#define AP_MODULE_DECLARE_DATA __attribute__((visibility("default")))

extern module AP_MODULE_DECLARE_DATA trueasync_module;

/* ---- configuration (mod_trueasync_config.c) ----------------------------------- */

/* The integer directives of a server, each -1 while unset.
 * TrueAsyncRequestTimeout is per directory. */
enum { D_THREADS, D_BUFFER, D_RETRY_AFTER, D_MAX_REQUESTS, D_MAX_WAIT, D_SLOWLOG, D_MAX_FAILURES, D_WATCH,
       D_MAX_CONCURRENCY, D_MAX_THREADS, D_IDLE_TIMEOUT, D_INTS, D_REQUEST_TIMEOUT = D_INTS };

typedef struct {
    const char *script;
    int v[D_INTS];
    long long max_memory;   /* -1: unset */
    apr_array_header_t *ini;    /* of ta_ini */
    apr_array_header_t *sendfile;   /* of const char *: TrueAsyncSendFilePath */
    int worker_index;       /* into the worker table, set in post_config */
} ta_srv_conf;

/* Per directory: a streaming location can have no timeout while the rest
 * has one. -1: unset. */
typedef struct { int request_timeout; } ta_dir_conf;

extern const command_rec ta_mod_cmds[];
void *ta_mod_create_srv_conf(apr_pool_t *p, server_rec *s);
void *ta_mod_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
void *ta_mod_create_dir_conf(apr_pool_t *p, char *dir);
void *ta_mod_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

/* Integer directive d of c: its value, or its default when unset. */
int ta_mod_conf_int(const ta_srv_conf *c, int d);

/* post_config: one worker per distinct script (the first server naming it
 * sets its size), in pconf; sets each server's worker_index. */
void ta_mod_collect_workers(apr_pool_t *pconf, server_rec *s);
/* That table, for the status page and the child; *n 0: no worker. */
const ta_worker_config *ta_mod_workers(int *n);

/* Set-ups the module cannot work in (pre_config, check_config hooks):
 * a refusal fails configtest and start-up. */
int ta_mod_refuse_mod_php(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int ta_mod_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);

/* ---- the status figures and page (mod_trueasync_status.c) ------------------------ */

/* post_config, in the parent: the shared memory of the children's figures,
 * laid out for the worker table (which must be collected first). */
void ta_mod_status_create(apr_pool_t *pconf, server_rec *s);
/* child_init: this child's region of it, NULL if it has none. */
ta_child_stats *ta_mod_status_claim(server_rec *s);
/* SetHandler trueasync-status; DECLINED for any other handler. */
int ta_mod_status_handler(request_rec *r);
/* mod_status's status_hook: the section of /server-status. */
int ta_mod_status_hook(request_rec *r, int flags);

#endif
