/* Logging from code that does not include httpd headers. The Apache glue
 * installs the sink (Apache's error log) and the most verbose level it
 * wants; messages below it are not even formatted. Every message starts
 * with a tag of the module's own, TA_LOGNO(n), listed in LOGTAGS. */
#ifndef TA_LOG_H
#define TA_LOG_H

enum { TA_LOG_ERR = 3, TA_LOG_WARNING = 4, TA_LOG_NOTICE = 5, TA_LOG_INFO = 6, TA_LOG_DEBUG = 7 };

/* "TA00815: "; the numbers are listed in LOGTAGS, unique. */
#define TA_LOGNO(n) "TA" #n ": "

/* status: an errno/APR status to append, or 0. */
typedef void (*ta_log_sink)(const char *file, int line, int level, int status, const char *msg);
void ta_log_set_sink(ta_log_sink sink, int max_level);
int ta_log_enabled(int level);
void ta_log_at(const char *file, int line, int level, int status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define ta_log(level, ...) \
    do { if (ta_log_enabled(level)) ta_log_at(__FILE__, __LINE__, (level), 0, __VA_ARGS__); } while (0)
#define ta_log_status(level, status, ...) \
    do { if (ta_log_enabled(level)) ta_log_at(__FILE__, __LINE__, (level), (status), __VA_ARGS__); } while (0)

#endif
