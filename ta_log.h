/* Logging from code that does not include httpd headers. The Apache glue
 * installs the sink; messages carry APLOGNO-style numbers (TA_LOGNO). */
#ifndef TA_LOG_H
#define TA_LOG_H

enum { TA_LOG_ERR = 3, TA_LOG_WARNING = 4, TA_LOG_NOTICE = 5, TA_LOG_INFO = 6, TA_LOG_DEBUG = 7 };

/* Same text as httpd's APLOGNO(n). */
#define TA_LOGNO(n) "AH" #n ": "

typedef void (*ta_log_sink)(int level, const char *msg);
void ta_log_set_sink(ta_log_sink sink);
void ta_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
