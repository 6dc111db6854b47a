#include "ta_log.h"

#include <stdarg.h>
#include <stdio.h>

static ta_log_sink log_sink;

void ta_log_set_sink(ta_log_sink sink) { log_sink = sink; }

void ta_log(int level, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log_sink) log_sink(level, buf);
    else fprintf(stderr, "%s\n", buf);
}
