/* chdir() inside a request is the request's: ZTS PHP keeps a working
 * directory per thread (virtual CWD), which the request's coroutines share
 * with every other request on the thread. A request that changed it has
 * its own put back while it runs and the thread's while it waits. */
#ifndef TA_PHP_REQUEST_CWD_H
#define TA_PHP_REQUEST_CWD_H

#include "php_common.h"

typedef struct {
    bool changed;               /* it called chdir(): the rest is kept */
    char *cwd;                  /* its directory while it is swapped out */
    char *thread_cwd;           /* the thread's while it is swapped in */
} ta_cwd_state;

/* From MINIT: chdir() learns which request calls it. */
void ta_request_cwd_install(void);
/* The request whose state is live (NULL: none). */
void ta_request_cwd_bind(ta_cwd_state *s);
void ta_request_cwd_swap_in(ta_cwd_state *s);
void ta_request_cwd_swap_out(ta_cwd_state *s);
void ta_request_cwd_free(ta_cwd_state *s);

#endif
