/* session_start() refused inside request coroutines (see the .c file). */
#ifndef TA_PHP_SESSION_GUARD_H
#define TA_PHP_SESSION_GUARD_H

/* From MINIT. */
void ta_session_guard_install(void);

#endif
