/* mod_trueasync_status.c: the status figures' shared memory, made by the
 * parent and claimed by each child, and the pages that show them: the
 * trueasync-status handler and the section of mod_status's /server-status.
 * status_page.c renders them; this file only sees Apache. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "ap_mpm.h"
#include "scoreboard.h"
#include "mod_status.h"
#include "apr_shm.h"

#include "status_page.h"
#include "ta_log.h"
#include "worker_stats.h"
#include "mod_trueasync_private.h"

APLOG_USE_MODULE(trueasync);

#define TA_STATUS_HANDLER "trueasync-status"

/* The status figures: one region per scoreboard slot, made by the parent
 * in post_config (so every child of the generation maps the same memory). */
static ta_stats_region g_stats = { .mine = -1 };

/* The status figures of every child, in memory the parent maps before it
 * forks them: one region per scoreboard slot. Without it the module still
 * serves; the status page is empty. */
void ta_mod_status_create(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    int limit = 1, n_configs;
    const ta_worker_config *configs = ta_mod_workers(&n_configs);
    g_stats = (ta_stats_region) { .mine = -1 };
    if (n_configs == 0) return;
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit) != APR_SUCCESS || limit < 1) limit = 1;
    size_t slot_size = ta_stats_slot_size(configs, n_configs);
    apr_status_t rv = apr_shm_create(&shm, slot_size * (size_t) limit, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, TA_LOGNO(00905)
                     "cannot create the shared memory of the status figures (%zu bytes)", slot_size * (size_t) limit);
        return;
    }
    g_stats = (ta_stats_region) { apr_shm_baseaddr_get(shm), slot_size, limit, -1 };
    memset(g_stats.base, 0, slot_size * (size_t) limit);
}

static long slot_pid(int slot)
{
    process_score *ps = ap_get_scoreboard_process(slot);
    return ps ? (long) ps->pid : 0;
}

ta_child_stats *ta_mod_status_claim(server_rec *s)
{
    ta_child_stats *mine = ta_stats_claim(&g_stats, slot_pid, 2000);
    if (g_stats.base && !mine)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, TA_LOGNO(00906) "child %" APR_PID_T_FMT
                     " found no scoreboard slot of its own; the status page does not show it", getpid());
    return mine;
}

static apr_status_t free_text(void *p) { free(p); return APR_SUCCESS; }

static int send_status(request_rec *r, int format)
{
    int n_configs;
    const ta_worker_config *configs = ta_mod_workers(&n_configs);
    ta_child_stats **children = apr_pcalloc(r->pool, sizeof *children * (size_t) (g_stats.slots + 1));
    int n = ta_stats_live(&g_stats, slot_pid, children);
    size_t len = 0;
    char *text = ta_status_render(format, configs, n_configs, children, n, &len);
    if (!text) return HTTP_INTERNAL_SERVER_ERROR;
    apr_pool_cleanup_register(r->pool, text, free_text, apr_pool_cleanup_null);
    if (r->header_only) return OK;
    ap_rwrite(text, (int) len, r);
    return OK;
}

int ta_mod_status_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, TA_STATUS_HANDLER) != 0) return DECLINED;
    if (r->method_number != M_GET) return HTTP_METHOD_NOT_ALLOWED;
    const char *type;
    int format = ta_status_format(r->args, &type);
    ap_set_content_type(r, type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return send_status(r, format);
}

/* mod_status's /server-status: a short section, or lines for ?auto. */
int ta_mod_status_hook(request_rec *r, int flags)
{
    int n_configs;
    ta_mod_workers(&n_configs);
    if (!n_configs) return OK;
    return send_status(r, (flags & AP_STATUS_SHORT) ? TA_STATUS_AUTO : TA_STATUS_SUMMARY);
}
