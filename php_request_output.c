#include "php_request_output.h"

static zend_output_globals *current_og(void)
{
    return TSRMG_BULK_STATIC(output_globals_id, zend_output_globals *);
}

void ta_output_swap_in(ta_output_state *st, zend_output_globals *saved)
{
    zend_output_globals *og = current_og();
    *saved = *og;
    if (!st->started) {
        php_output_activate();          /* a fresh layer, as at request start-up */
        st->started = true;
    } else {
        *og = st->og;
    }
}

void ta_output_swap_out(ta_output_state *st, const zend_output_globals *saved)
{
    zend_output_globals *og = current_og();
    st->og = *og;
    *og = *saved;
}

void ta_output_finish(ta_output_state *st)
{
    if (!st->started) return;
    zend_output_globals saved;
    ta_output_swap_in(st, &saved);
    php_output_end_all();
    ta_output_swap_out(st, &saved);
}

void ta_output_destroy(ta_output_state *st)
{
    if (!st->started) return;
    zend_output_globals saved;
    ta_output_swap_in(st, &saved);
    php_output_discard_all();
    php_output_deactivate();
    ta_output_swap_out(st, &saved);
    st->started = false;
}
