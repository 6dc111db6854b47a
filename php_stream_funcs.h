/* PHP functions on socket streams, hooked (php_stream_funcs.c). */
#ifndef TA_PHP_STREAM_FUNCS_H
#define TA_PHP_STREAM_FUNCS_H

/* stream_select() waits on the reactor inside coroutines; the streams of
 * stream_socket_pair() yield as the transports' do; fclose() of a socket
 * waits its turn on a shared one and lets the loop run first. */
void ta_stream_select_install(void);

#endif
