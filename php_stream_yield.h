/* PHP stream sockets (tcp, udp, unix, udg, ssl/tls) yield inside coroutines:
 * a read, write, connect or accept that would wait, and a TLS handshake
 * (ssl:// connect and accept, stream_socket_enable_crypto() either side),
 * suspends the coroutine on the reactor instead of blocking the thread. A read, receive, accept,
 * connect, bind or close first lets the loop run once, as php-async's do
 * (their order); a write goes out at once. */
#ifndef TA_PHP_STREAM_YIELD_H
#define TA_PHP_STREAM_YIELD_H

#include "php_common.h"

/* Wraps every registered socket transport; call at module start-up, after
 * the extensions that register transports (openssl) started. */
void ta_stream_yield_install(void);


/* For php_stream_funcs.c: whether a stream's ops are the module's, and
 * giving a socket no transport made (stream_socket_pair) the waiting ops. */
bool ta_stream_is_wrapped(const php_stream *stream);
void ta_stream_wrap_plain(php_stream *stream);

/* Set once at start-up: around a coroutine's read or write on a socket
 * stream, enter(stream) says whether that I/O must run to its end though
 * the coroutine be cancelled meanwhile (enter then holds the cancellation
 * back, and leave(stream) lets go of it): a shared MySQL connection's. */
typedef struct ta_stream_io_hooks {
    bool (*enter)(struct _php_stream *stream);
    void (*leave)(struct _php_stream *stream);
} ta_stream_io_hooks;
void ta_stream_set_io_hooks(ta_stream_io_hooks hooks);


#endif
