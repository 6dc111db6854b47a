/* curl handles shared by the coroutines of a PHP thread (a CurlHandle or
 * CurlMultiHandle an SDK made when the worker booted): one coroutine at a
 * time uses a handle; the others wait, as coroutines, in arrival order.
 * Outside coroutines PHP behaves as its own. */
#ifndef TA_PHP_CURL_GUARD_H
#define TA_PHP_CURL_GUARD_H

/* From MINIT, after curl started: wraps the curl_* functions that take a
 * handle. Nothing without the curl extension. */
void ta_curl_guard_install(void);
/* At each boot of a worker (RINIT): the thread's guards start empty. */
void ta_curl_guard_rinit(void);
/* A run ends (ta_module_run_end): waiters let go unwoken. */
void ta_curl_guard_run_end(void);

#endif
