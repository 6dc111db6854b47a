#include "ta_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static ta_log_sink log_sink;
static int log_max = TA_LOG_DEBUG;

void ta_log_set_sink(ta_log_sink sink, int max_level)
{
    log_sink = sink;
    log_max = max_level;
}

/* httpd's rule (log_error_core()): notice is written whatever the
 * LogLevel. PHP hands error_log() and its E_NOTICE/E_DEPRECATED lines over
 * at notice, and mod_php relies on that rule too. */
int ta_log_enabled(int level) { return level <= log_max || level == TA_LOG_NOTICE; }

void ta_log_at(const char *file, int line, int level, int status, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log_sink) log_sink(file, line, level, status, buf);
    else if (status) fprintf(stderr, "%s: %s\n", buf, strerror(status));
    else fprintf(stderr, "%s\n", buf);
}
