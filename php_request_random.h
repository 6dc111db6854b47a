/* mt_srand()/srand() inside a request seed the request's own Mersenne
 * Twister: code that seeds for a repeatable sequence gets it, however
 * other requests on the thread draw meanwhile, and they never see its
 * seed. Requests that never seed share the thread's generator. */
#ifndef TA_PHP_REQUEST_RANDOM_H
#define TA_PHP_REQUEST_RANDOM_H

#include "php_common.h"

typedef struct {
    void *mt;                   /* its generator while swapped out (php_random_status *); NULL: none */
    bool seeded;
    bool own;                   /* it called mt_srand() */
} ta_random_state;

/* From MINIT: mt_srand() and srand() learn which request calls them. */
void ta_request_random_install(void);
void ta_request_random_bind(ta_random_state *s);
void ta_request_random_exchange(ta_random_state *s);
void ta_request_random_free(ta_random_state *s);

#endif
