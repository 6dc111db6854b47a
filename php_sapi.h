/* The SAPI that embeds PHP into the Apache child: process-wide start-up and
 * shut-down, and where PHP's output and log lines go. */
#ifndef TA_PHP_SAPI_H
#define TA_PHP_SAPI_H

/* In the thread that will later call ta_php_shutdown. 0 or -1 (logged). */
int ta_php_startup(void);
void ta_php_shutdown(void);

#endif
