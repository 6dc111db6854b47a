/* Output buffering per request. PHP keeps its output layer (the ob_*
 * stack, its handlers, output_add_rewrite_var) once per thread; requests
 * whose coroutines interleave on the thread each get their own, swapped in
 * while one of their coroutines runs. */
#ifndef TA_PHP_REQUEST_OUTPUT_H
#define TA_PHP_REQUEST_OUTPUT_H

#include "php_common.h"
#include <main/php_output.h>

typedef struct ta_output_state {
    zend_output_globals og;     /* this request's output layer while swapped out */
    bool started;               /* og was set up (first time swapped in) */
} ta_output_state;

/* Makes st the thread's output layer (setting it up the first time) and
 * keeps the one it replaces in *saved. */
void ta_output_swap_in(ta_output_state *st, zend_output_globals *saved);
/* Puts st's layer back into st and restores *saved. */
void ta_output_swap_out(ta_output_state *st, const zend_output_globals *saved);
/* The request ended: what its buffers still hold is flushed (as PHP does
 * at request shutdown), through the thread's output to the response. */
void ta_output_finish(ta_output_state *st);
/* Frees the layer's handlers without output (the request is gone). */
void ta_output_destroy(ta_output_state *st);

#endif
