/* PHP stream sockets (tcp, udp, unix, udg, ssl/tls) yield inside coroutines:
 * a read, write, connect or accept that would wait, and a TLS handshake
 * (ssl:// connect and accept, stream_socket_enable_crypto() either side),
 * suspends the coroutine on the reactor instead of blocking the thread. A read, receive, accept,
 * connect, bind or close first lets the loop run once, as php-async's do
 * (their order); a write goes out at once. */
#ifndef TA_PHP_STREAM_YIELD_H
#define TA_PHP_STREAM_YIELD_H

/* Wraps every registered socket transport; call at module start-up, after
 * the extensions that register transports (openssl) started. */
void ta_stream_yield_install(void);

/* stream_select() waits on the reactor inside coroutines; the streams of
 * stream_socket_pair() yield as the transports' do; fclose() of a socket
 * lets the loop run first. */
void ta_stream_select_install(void);

#endif
