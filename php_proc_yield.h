/* proc_open() pipes and proc_close() yield inside coroutines. */
#ifndef TA_PHP_PROC_YIELD_H
#define TA_PHP_PROC_YIELD_H

void ta_proc_yield_install(void);

#endif
