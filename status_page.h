/* The trueasync-status page: the figures of every child (worker_stats.h)
 * as an HTML table, JSON or the Prometheus text format, and the short
 * section mod_status shows. No httpd: the glue finds the live children and
 * writes out the text. */
#ifndef TA_STATUS_PAGE_H
#define TA_STATUS_PAGE_H

#include <stddef.h>
#include "worker_config.h"
#include "worker_stats.h"

enum { TA_STATUS_HTML, TA_STATUS_JSON, TA_STATUS_PROMETHEUS,
       TA_STATUS_SUMMARY,       /* a section of mod_status's HTML page */
       TA_STATUS_AUTO };        /* lines for mod_status's ?auto */

/* The format a query string asks for (`?json`, `?prometheus`, else HTML)
 * and its Content-Type. */
int ta_status_format(const char *args, const char **content_type);

/* The page for these children (each laid out for cfg): malloc'd text the
 * caller frees, its length in *len; NULL without memory. */
char *ta_status_render(int format, const ta_worker_config *cfg, int n_workers,
                       ta_child_stats *const *children, int n_children, size_t *len);

#endif
