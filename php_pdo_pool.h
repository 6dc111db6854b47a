/* TrueAsync's PDO pool (PDO::ATTR_POOL_*, PDO::getPool()): a PDO made
 * with PDO::ATTR_POOL_ENABLED is a facade over an Async\Pool of
 * connections; each coroutine works on one of its own. */
#ifndef TA_PHP_PDO_POOL_H
#define TA_PHP_PDO_POOL_H

/* From MINIT, after ta_db_guard_install() (whose PDO wrappers hand pool
 * facades over to it) and after Async\Pool is registered. */
void ta_pdo_pool_install(void);
/* At each boot of a worker (RINIT). */
void ta_pdo_pool_rinit(void);

#endif
