/* A request's own date_default_timezone_set() (see php_request_date.h).
 * ext/date's globals id is not exported: it is found through the module
 * entry, as php_request_zlib.c finds zlib's. */
#include "php_request_date.h"
#include "ext/date/php_date.h"

static ts_rsrc_id *date_id;

void ta_request_date_minit(void)
{
    zend_module_entry *m = zend_hash_str_find_ptr(&module_registry, "date", 4);
    if (m && m->globals_id_ptr && m->globals_size == sizeof(zend_date_globals)) date_id = m->globals_id_ptr;
}

static zend_date_globals *dg(void)
{
    return date_id ? TSRMG_BULK(*date_id, zend_date_globals *) : NULL;
}

void ta_request_date_exchange(ta_date_state *s)
{
    zend_date_globals *g = dg();
    if (!g) return;
    if (!s->init) {
        s->init = true;
        s->timezone = g->timezone ? estrdup(g->timezone) : NULL;
    }
    char *tz = g->timezone;
    g->timezone = s->timezone;
    s->timezone = tz;
}

void ta_request_date_free(ta_date_state *s)
{
    if (s->timezone) efree(s->timezone);
    s->timezone = NULL;
}
