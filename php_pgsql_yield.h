/* pgsql's and pdo_pgsql's libpq calls wait on the reactor inside
 * coroutines (see php_pgsql_yield.c). */
#ifndef TA_PHP_PGSQL_YIELD_H
#define TA_PHP_PGSQL_YIELD_H

/* From MINIT, once PHP has loaded its extensions; nothing when neither
 * pgsql nor pdo_pgsql is loaded. */
void ta_pgsql_yield_install(void);

#endif
