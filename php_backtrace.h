/* The PHP frames running on this thread now, as one line for the slow log
 * (like php-fpm's): function, file and line of each frame, innermost first. */
#ifndef TA_PHP_BACKTRACE_H
#define TA_PHP_BACKTRACE_H

#include <stddef.h>

/* Writes "#0 fn() file:line; #1 ..." into buf (always NUL-terminated) and
 * returns the frame count. PHP thread only; from the VM interrupt too. */
int ta_php_backtrace(char *buf, size_t cap);

#endif
