/* Signals belong to Apache. PHP threads neither install handlers for the
 * signals httpd uses nor receive them, whatever PHP's build (Zend signals)
 * or a script (pcntl) would do. */
#ifndef TA_PHP_SIGNALS_H
#define TA_PHP_SIGNALS_H

#include <stdbool.h>

/* On each PHP thread, before its first PHP request: blocks httpd's signals
 * there and stops Zend from installing its per-request handlers. */
void ta_signals_thread_init(void);
/* From MINIT: pcntl_signal()/pcntl_alarm() refuse httpd's signals, and
 * max_execution_time (a process-wide SIGPROF timer here) stays 0. */
void ta_signals_hooks_install(void);
/* Whether httpd relies on `signo` (TERM, HUP, USR1, WINCH, CHLD, PIPE, ALRM, ...). */
bool ta_signal_is_apaches(int signo);

#endif
