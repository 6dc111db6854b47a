#include "php_common.h"
#include "php_stream_yield.h"
#include "coro_wait.h"
#include "php_stream_guard.h"
#include "scheduler.h"
#include "ta_async_api.h"
#include "php_fn_hook.h"
#include "ta_clock.h"

#include <main/php_network.h>
#include <arpa/inet.h>
#include <string.h>
#include <pthread.h>

/* A copy of a transport's ops with the waiting operations replaced. The
 * original ops are put back on the stream around every call into them:
 * PHP's socket code tells unix from tcp sockets by the ops pointer.
 * Each transport has two copies, and the one a stream points at says how
 * its descriptor is: [0] in the mode PHP set, [1] left non-blocking by a
 * coroutine although PHP sees a blocking stream. Coroutines' reads and
 * writes then cost no fcntl() each; anything else puts the mode back. */
typedef struct ta_wrapped_ops {
    php_stream_ops ops;         /* first: stream->ops points here */
    const php_stream_ops *orig;
    bool plain;                 /* opened as tcp/udp/unix/udg: no TLS handshake in connect */
    zend_long tls_method;       /* ssl://, tls://...: the crypto method to connect with */
    bool fd_nonblocking;        /* this is copy [1] */
    struct ta_wrapped_ops *twin;
} ta_wrapped_ops;

#define TA_MAX_WRAPPED 16
static ta_wrapped_ops wrapped[TA_MAX_WRAPPED][2];
static int n_wrapped;

typedef struct {
    char name[32];
    php_stream_transport_factory orig;
} ta_factory;

#define TA_MAX_FACTORIES 32
static ta_factory factories[TA_MAX_FACTORIES];
static int n_factories;

static bool is_wrapped(const php_stream_ops *ops)
{
    return (const void *) ops >= (const void *) wrapped
        && (const void *) ops < (const void *) (wrapped + TA_MAX_WRAPPED);
}

static const php_stream_ops *orig_ops(php_stream *stream)
{
    return ((const ta_wrapped_ops *) stream->ops)->orig;
}

/* ---- calls into the original ops --------------------------------------------- */

#define WITH_ORIG(stream, expr) ({                                   \
        const php_stream_ops *w_ = (stream)->ops;                    \
        (stream)->ops = ((const ta_wrapped_ops *) w_)->orig;         \
        __typeof__(expr) r_ = (expr);                                \
        (stream)->ops = w_;                                          \
        r_; })

static ta_wrapped_ops *wrapper_of(php_stream *stream) { return (ta_wrapped_ops *) stream->ops; }

/* The descriptor back in the mode PHP set: before any call but a
 * coroutine's read or write, and before the descriptor leaves our hands. */
static void sync_fd(php_stream *stream)
{
    ta_wrapped_ops *w = wrapper_of(stream);
    if (!w->fd_nonblocking) return;
    php_netstream_data_t *sock = (php_netstream_data_t *) stream->abstract;
    if (sock && sock->socket >= 0) php_set_sock_blocking(sock->socket, sock->is_blocked);
    stream->ops = &w->twin->ops;
}

/* Notes that a blocking stream's descriptor is non-blocking now. */
static void keep_nonblocking(php_stream *stream)
{
    ta_wrapped_ops *w = wrapper_of(stream);
    if (!w->fd_nonblocking) stream->ops = &w->twin->ops;
}

/* A blocking stream's descriptor made non-blocking, and left so. */
static void fd_nonblocking(php_stream *stream, php_netstream_data_t *sock)
{
    if (wrapper_of(stream)->fd_nonblocking) return;
    php_set_sock_blocking(sock->socket, 0);
    keep_nonblocking(stream);
}

/* Options that neither depend on the descriptor's mode nor expose it. */
static bool mode_agnostic(int option)
{
    switch (option) {
    case PHP_STREAM_OPTION_CHECK_LIVENESS: case PHP_STREAM_OPTION_READ_TIMEOUT:
    case PHP_STREAM_OPTION_META_DATA_API: case PHP_STREAM_OPTION_READ_BUFFER:
    case PHP_STREAM_OPTION_WRITE_BUFFER: case PHP_STREAM_OPTION_SET_CHUNK_SIZE:
        return true;
    }
    return false;
}

/* Only blocking-mode sockets, inside a coroutine, need us. */
static php_netstream_data_t *waiting_socket(php_stream *stream)
{
    php_netstream_data_t *sock = (php_netstream_data_t *) stream->abstract;
    if (!ta_coro_current() || !sock || sock->socket < 0 || !sock->is_blocked) return NULL;
    return sock;
}

/* One call of the original read or write in non-blocking mode: PHP's code
 * then returns 0 instead of waiting. The stream reads as blocking again
 * before the coroutine waits, so others using it meanwhile see it so. */
#define NONBLOCKING_CALL(stream, sock, expr) ({                      \
        (sock)->is_blocked = 0;                                      \
        __typeof__(expr) nb_ = WITH_ORIG(stream, expr);              \
        (sock)->is_blocked = 1;                                      \
        nb_; })

static ta_stream_io_hooks io_hooks;

void ta_stream_set_io_hooks(ta_stream_io_hooks hooks) { io_hooks = hooks; }

#define TA_IO_CALL() (wbuf ? orig->write(stream, wbuf, count) : orig->read(stream, rbuf, count))

/* Inside a coroutine: PHP's call made non-blocking, and a wait on the
 * reactor (within the stream's timeout) each time it would block. */
static ssize_t socket_io_yield(php_stream *stream, php_netstream_data_t *sock, char *rbuf, const char *wbuf,
                               size_t count)
{
    const php_stream_ops *orig = orig_ops(stream);
    /* php-async's order: a read resumes its coroutine once the loop has
     * run, after those ready meanwhile (a write goes out at once) */
    ta_stream_guard_waiting(stream);
    if (!wbuf && ta_coro_yield_to_loop() == FAILURE) {
        ta_stream_guard_waiting(NULL);
        if (ta_coro_current()->cancelled) ta_stream_guard_interrupted(stream);
        return -1;
    }
    struct timeval tv = sock->timeout;
    bool limited = tv.tv_sec != -1;
    /* Non-blocking for the call: TLS may already hold decrypted bytes that
     * a wait on the socket would never see. */
    fd_nonblocking(stream, sock);
    ssize_t n;
    for (;;) {
        n = NONBLOCKING_CALL(stream, sock, TA_IO_CALL());
        if (n != 0 || (!wbuf && stream->eof)) break;
        ta_stream_guard_waiting(stream);
        int r = ta_wait_fd(sock->socket, wbuf ? ASYNC_WRITABLE : ASYNC_READABLE, limited ? &tv : NULL);
        if (r <= 0) {
            n = -1;
            if (r == 0) sock->timeout_event = 1;
            else if (ta_coro_current()->cancelled) ta_stream_guard_interrupted(stream);
            break;
        }
    }
    ta_stream_guard_waiting(NULL);
    return n;
}

/* A read (rbuf) or write (wbuf): outside a coroutine PHP's own call;
 * inside one, held to its end while the I/O hooks say so. */
static ssize_t socket_io(php_stream *stream, char *rbuf, const char *wbuf, size_t count)
{
    const php_stream_ops *orig = orig_ops(stream);
    php_netstream_data_t *sock = waiting_socket(stream);
    if (!sock) { sync_fd(stream); return WITH_ORIG(stream, TA_IO_CALL()); }
    /* one request's coroutines at a time on a shared stream */
    if (ta_stream_guard_enter(stream, wbuf != NULL) < 0) return -1;
    bool held = io_hooks.enter && io_hooks.enter(stream);
    ssize_t n = socket_io_yield(stream, sock, rbuf, wbuf, count);
    if (held) io_hooks.leave(stream);
    return n;
}
#undef TA_IO_CALL

static ssize_t w_read(php_stream *stream, char *buf, size_t count) { return socket_io(stream, buf, NULL, count); }
static ssize_t w_write(php_stream *stream, const char *buf, size_t count) { return socket_io(stream, NULL, buf, count); }

/* Streams opened as tcp/udp/unix/udg connect without a handshake (tcp://
 * streams carry the TLS ops too, so the transport name decides, not the
 * ops); ssl:// and tls:// ones get connect_tls(). */
static bool plain_transport(const char *proto, size_t len)
{
    static const char *const names[] = { "tcp", "udp", "unix", "udg" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == len && strncasecmp(proto, names[i], len) == 0) return true;
    return false;
}

static php_stream_ops *wrap_ops(const php_stream_ops *orig, bool plain, zend_long tls_method);

/* Completes an asynchronous connect: waits for writability (within the
 * connect timeout) and reports the outcome as PHP's blocking connect would.
 * True when connected. */
static bool finish_connect(php_netstream_data_t *sock, php_stream_xport_param *xp, bool pending)
{
    int err = 0;
    if (pending) {
        int r = ta_wait_fd(sock->socket, ASYNC_WRITABLE, xp->inputs.timeout);
        if (r < 0) { xp->outputs.returncode = -1; return false; }
        if (r == 0) err = ETIMEDOUT;
        else {
            socklen_t len = sizeof err;
            if (getsockopt(sock->socket, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
    }
    xp->outputs.returncode = err ? -1 : 0;
    xp->outputs.error_code = err;
    if (err && xp->want_errortext) {
        if (xp->outputs.error_text) zend_string_release(xp->outputs.error_text);
        xp->outputs.error_text = php_socket_error_str(err);
    }
    return err == 0;
}

/* connect: the asynchronous form, then a wait for writability. */
static int connect_one(php_stream *stream, const php_stream_ops *orig, php_stream_xport_param *xp)
{
    php_netstream_data_t *sock = (php_netstream_data_t *) stream->abstract;
    xp->op = STREAM_XPORT_OP_CONNECT_ASYNC;
    int ret = WITH_ORIG(stream, orig->set_option(stream, PHP_STREAM_OPTION_XPORT_API, 0, xp));
    xp->op = STREAM_XPORT_OP_CONNECT;
    /* returncode 1: the connect is in progress */
    if (ret != PHP_STREAM_OPTION_RETURN_OK || xp->outputs.returncode < 0 || !sock || sock->socket < 0)
        return ret;
    bool pending = xp->outputs.returncode == 1 || xp->outputs.error_code == EINPROGRESS;
    /* PHP's asynchronous connect leaves the descriptor non-blocking: kept
     * so for the coroutine's reads and writes to come. */
    if (finish_connect(sock, xp, pending) && sock->is_blocked) {
        keep_nonblocking(stream);
    } else {
        php_set_sock_blocking(sock->socket, sock->is_blocked);
    }
    return ret;
}

/* "name:port" where name is a host name, not an address literal. */
static bool split_host(const char *name, size_t len, char *host, size_t hostsz, const char **port)
{
    if (len == 0 || name[0] == '[') return false;
    const char *colon = memrchr(name, ':', len);
    if (!colon || (size_t) (colon - name) >= hostsz || colon == name) return false;
    memcpy(host, name, (size_t) (colon - name));
    host[colon - name] = '\0';
    if (memchr(host, ':', strlen(host))) return false;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) return false;
    *port = colon + 1;
    return true;
}

/* unix:// and udg:// sockets: no address to look up. */
static bool local_transport(const php_stream_ops *orig)
{
    const char *label = orig->label ? orig->label : "";
    return strncmp(label, "unix", 4) == 0 || strncmp(label, "udg", 3) == 0;
}

/* A host name is resolved on the reactor first, so the connect's own
 * lookup never blocks the thread; each address is tried in turn, as PHP
 * does. A name that does not resolve goes to PHP unchanged (its error). */
static int connect_yield(php_stream *stream, const php_stream_ops *orig, php_stream_xport_param *xp)
{
    char host[256];
    const char *port;
    if (local_transport(orig) || !split_host(xp->inputs.name, xp->inputs.namelen, host, sizeof host, &port)) {
        /* where php-async looks the address up on the loop */
        if (ta_coro_yield_to_loop() == FAILURE) { xp->outputs.returncode = -1; return PHP_STREAM_OPTION_RETURN_OK; }
        return connect_one(stream, orig, xp);
    }

    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = orig->label && strncmp(orig->label, "udp", 3) == 0 ? SOCK_DGRAM : SOCK_STREAM;
    zend_async_dns_addrinfo_t *dns = ZEND_ASYNC_GETADDRINFO(host, NULL, &hints);
    if (!dns) { zend_clear_exception(); return connect_one(stream, orig, xp); }
    if (ta_coro_wait_event(&dns->base) < 0) {
        ZEND_ASYNC_EVENT_RELEASE(&dns->base);
        xp->outputs.returncode = -1;
        return PHP_STREAM_OPTION_RETURN_OK;
    }
    if (!dns->result) {
        ZEND_ASYNC_EVENT_RELEASE(&dns->base);
        return connect_one(stream, orig, xp);
    }
    php_netstream_data_t *sock = (php_netstream_data_t *) stream->abstract;
    char *const name = xp->inputs.name;
    const size_t namelen = xp->inputs.namelen;
    int ret = PHP_STREAM_OPTION_RETURN_ERR;
    int tried = 0;
    for (struct addrinfo *ai = dns->result; ai && tried < 8; ai = ai->ai_next) {
        char ip[INET6_ADDRSTRLEN], target[INET6_ADDRSTRLEN + 16];
        const void *addr = ai->ai_family == AF_INET6 ? (const void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr
                                                     : (const void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr;
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            || !inet_ntop(ai->ai_family, addr, ip, sizeof ip)) continue;
        snprintf(target, sizeof target, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", ip, port);
        if (tried++ > 0) {
            /* the previous attempt's socket and message make way */
            if (sock && sock->socket >= 0) { closesocket(sock->socket); sock->socket = -1; }
            if (xp->outputs.error_text) { zend_string_release(xp->outputs.error_text); xp->outputs.error_text = NULL; }
        }
        xp->inputs.name = target;
        xp->inputs.namelen = strlen(target);
        ret = connect_one(stream, orig, xp);
        xp->inputs.name = name;
        xp->inputs.namelen = namelen;
        if (EG(exception) || (ret == PHP_STREAM_OPTION_RETURN_OK && xp->outputs.returncode == 0)) break;
    }
    ZEND_ASYNC_EVENT_RELEASE(&dns->base);
    if (!tried) return connect_one(stream, orig, xp);
    return ret;
}

/* PHP's TLS handshake (SSL_connect or SSL_accept in its enable_crypto)
 * tried in non-blocking mode, the coroutine waiting on the reactor while
 * the peer owes data. As in PHP, `limit` bounds the whole handshake, not
 * each wait (none if NULL, zero or negative) and its end is "SSL:
 * Handshake timed out". The calls go straight to PHP's ops: ours would put
 * the descriptor's mode back. A handshake wanting to write waits for the
 * peer too: its flights are far smaller than a socket's send buffer. */
static int handshake_yield(php_stream *stream, php_netstream_data_t *sock, php_stream_xport_crypto_param *cp,
                           const struct timeval *limit)
{
    const php_stream_ops *orig = orig_ops(stream);
    bool limited = limit && (limit->tv_sec > 0 || (limit->tv_sec == 0 && limit->tv_usec > 0));
    uint64_t deadline = limited ? ta_now_us() + (uint64_t) limit->tv_sec * 1000000u + (uint64_t) limit->tv_usec : 0;
    int was_blocked = sock->is_blocked, ret;
    sock->is_blocked = 0;
    for (;;) {
        ret = WITH_ORIG(stream, orig->set_option(stream, PHP_STREAM_OPTION_CRYPTO_API, 0, cp));
        if (ret != PHP_STREAM_OPTION_RETURN_OK || cp->outputs.returncode != 0) break;
        struct timeval left = {0, 0};
        if (limited) {
            uint64_t now = ta_now_us(), rest = now < deadline ? deadline - now : 0;
            left.tv_sec = (time_t) (rest / 1000000u);
            left.tv_usec = (suseconds_t) (rest % 1000000u);
        }
        int r = limited && !left.tv_sec && !left.tv_usec ? 0
              : ta_wait_fd(sock->socket, ASYNC_READABLE, limited ? &left : NULL);
        if (r <= 0) {           /* timed out, or cancelled: the exception is pending */
            if (r == 0) php_error_docref(NULL, E_WARNING, "SSL: Handshake timed out");
            cp->outputs.returncode = -1;
            break;
        }
    }
    sock->is_blocked = was_blocked;
    return ret;
}

/* ssl://, tls://: PHP's TCP connect in its asynchronous form, a wait, then
 * PHP's own handshake, within the connect timeout as PHP's (which would
 * poll inside the handshake). */
static int connect_tls(php_stream *stream, const php_stream_ops *orig, php_stream_xport_param *xp, zend_long method)
{
    php_netstream_data_t *sock = (php_netstream_data_t *) stream->abstract;
    xp->op = STREAM_XPORT_OP_CONNECT_ASYNC;
    int ret = WITH_ORIG(stream, php_stream_socket_ops.set_option(stream, PHP_STREAM_OPTION_XPORT_API, 0, xp));
    xp->op = STREAM_XPORT_OP_CONNECT;
    if (ret != PHP_STREAM_OPTION_RETURN_OK || xp->outputs.returncode < 0 || !sock || sock->socket < 0) return ret;
    if (!finish_connect(sock, xp, xp->outputs.returncode == 1)) return ret;
    /* The asynchronous connect left the descriptor non-blocking. */
    sock->is_blocked = 0;
    php_stream_xport_crypto_param cp = { .op = STREAM_XPORT_CRYPTO_OP_ENABLE, .inputs.activate = 1 };
    if (WITH_ORIG(stream, php_stream_xport_crypto_setup(stream, method, NULL)) < 0
        || handshake_yield(stream, sock, &cp, xp->inputs.timeout) != PHP_STREAM_OPTION_RETURN_OK
        || cp.outputs.returncode < 0) {
        if (!EG(exception)) php_error_docref(NULL, E_WARNING, "Failed to enable crypto");
        xp->outputs.returncode = -1;
    }
    sock->is_blocked = 1;
    keep_nonblocking(stream);
    return ret;
}

/* stream_socket_enable_crypto() on a blocking stream, and the handshake of
 * a client an ssl:// server accepted: within the stream's timeout, as
 * PHP's server side (PHP's client side counts the connect timeout, which
 * a wrapper cannot see: the stream's stands in). */
static int crypto_enable_yield(php_stream *stream, php_stream_xport_crypto_param *cp)
{
    php_netstream_data_t *sock = (php_netstream_data_t *) stream->abstract;
    struct timeval limit = sock->timeout;
    fd_nonblocking(stream, sock);
    return handshake_yield(stream, sock, cp, &limit);
}

/* stream_socket_recvfrom()/sendto() go straight to recvfrom()/sendto() on
 * the descriptor, which blocks the thread in blocking mode (and PHP gives
 * them no timeout). Inside a coroutine: one non-blocking try, and a wait on
 * the reactor each time it would block. */
static int xport_io_yield(php_stream *stream, const php_stream_ops *orig, int option, int value,
                          php_stream_xport_param *xp, php_netstream_data_t *sock)
{
    int events = xp->op == STREAM_XPORT_OP_RECV ? ASYNC_READABLE : ASYNC_WRITABLE;
    if (events == ASYNC_READABLE && ta_coro_yield_to_loop() == FAILURE) {
        xp->outputs.returncode = -1;        /* a receive, as a read: once the loop ran */
        return PHP_STREAM_OPTION_RETURN_OK;
    }
    struct timeval tv = sock->timeout;
    fd_nonblocking(stream, sock);
    for (;;) {
        int ret = WITH_ORIG(stream, orig->set_option(stream, option, value, xp));
        if (ret != PHP_STREAM_OPTION_RETURN_OK || xp->outputs.returncode >= 0) return ret;
        int err = php_socket_errno();
        if (err != EAGAIN && err != EWOULDBLOCK) return ret;
        /* A failed try may have filled the peer address from nothing. */
        if (xp->want_textaddr && xp->outputs.textaddr) {
            zend_string_release(xp->outputs.textaddr);
            xp->outputs.textaddr = NULL;
        }
        if (xp->want_addr && xp->outputs.addr) {
            efree(xp->outputs.addr);
            xp->outputs.addr = NULL;
            xp->outputs.addrlen = 0;
        }
        /* within the stream's timeout, as php-async (PHP's own waits forever) */
        int r = ta_wait_fd(sock->socket, events, tv.tv_sec != -1 ? &tv : NULL);
        if (r <= 0) {               /* timed out, or cancelled: the exception is pending */
            if (r == 0) sock->timeout_event = 1;
            xp->outputs.returncode = -1;
            return PHP_STREAM_OPTION_RETURN_OK;
        }
    }
}

/* accept: a wait on the reactor for the connection, then PHP's accept, at
 * once (with no time left, it reports the timeout in its own words). PHP
 * gives the client stream the server's ops: ours, left on for the call, so
 * the client is born wrapped and the handshake an ssl:// server starts on
 * it yields in crypto_enable_yield(). */
static int accept_yield(php_stream *stream, const php_stream_ops *orig, int option, int value,
                        php_stream_xport_param *xp, php_netstream_data_t *sock)
{
    struct timeval zero = {0, 0}, *keep = xp->inputs.timeout;
    int r = ta_wait_fd(sock->socket, ASYNC_READABLE, keep);
    if (r < 0) { xp->outputs.returncode = -1; return PHP_STREAM_OPTION_RETURN_OK; }
    if (r == 0) xp->inputs.timeout = &zero;
    sync_fd(stream);        /* the copy for the mode PHP set, which the client starts in */
    bool plain = wrapper_of(stream)->plain;     /* read before: the handshake yields */
    int ret = orig->set_option(stream, option, value, xp);
    xp->inputs.timeout = keep;
    if (xp->outputs.client && !is_wrapped(xp->outputs.client->ops))
        xp->outputs.client->ops = wrap_ops(xp->outputs.client->ops, plain, 0);
    return ret;
}

static int w_set_option(php_stream *stream, int option, int value, void *ptrparam)
{
    const php_stream_ops *orig = orig_ops(stream);
    if (!mode_agnostic(option)) sync_fd(stream);
    if (option == PHP_STREAM_OPTION_CRYPTO_API && ptrparam && waiting_socket(stream)) {
        php_stream_xport_crypto_param *cp = ptrparam;
        if (cp->op == STREAM_XPORT_CRYPTO_OP_ENABLE && cp->inputs.activate)
            return crypto_enable_yield(stream, cp);
    }
    if (option == PHP_STREAM_OPTION_XPORT_API && ptrparam && ta_coro_current()) {
        php_stream_xport_param *xp = ptrparam;
        php_netstream_data_t *sock = (php_netstream_data_t *) stream->abstract;
        if (xp->op == STREAM_XPORT_OP_BIND && !local_transport(orig) && ta_coro_yield_to_loop() == FAILURE) {
            xp->outputs.returncode = -1;        /* where php-async looks the address up on the loop */
            return PHP_STREAM_OPTION_RETURN_OK;
        }
        if (xp->op == STREAM_XPORT_OP_CONNECT && ((const ta_wrapped_ops *) stream->ops)->plain)
            return connect_yield(stream, orig, xp);
        if (xp->op == STREAM_XPORT_OP_CONNECT && ((const ta_wrapped_ops *) stream->ops)->tls_method)
            return connect_tls(stream, orig, xp, ((const ta_wrapped_ops *) stream->ops)->tls_method);
        if ((xp->op == STREAM_XPORT_OP_RECV || xp->op == STREAM_XPORT_OP_SEND) && waiting_socket(stream))
            return xport_io_yield(stream, orig, option, value, xp, sock);
        if (xp->op == STREAM_XPORT_OP_ACCEPT && sock && sock->socket >= 0)
            return accept_yield(stream, orig, option, value, xp, sock);
    }
    int ret = WITH_ORIG(stream, orig->set_option(stream, option, value, ptrparam));
    if (option == PHP_STREAM_OPTION_XPORT_API && ptrparam) {
        php_stream_xport_param *xp = ptrparam;
        if (xp->op == STREAM_XPORT_OP_ACCEPT && xp->outputs.client && !is_wrapped(xp->outputs.client->ops))
            xp->outputs.client->ops = wrap_ops(xp->outputs.client->ops, ((const ta_wrapped_ops *) stream->ops)->plain, 0);
    }
    return ret;
}

static int w_close(php_stream *stream, int close_handle)
{
    const php_stream_ops *orig = orig_ops(stream);
    ta_stream_guard_forget(stream);
    if (!close_handle) sync_fd(stream);
    return WITH_ORIG(stream, orig->close(stream, close_handle));
}

static int w_flush(php_stream *stream)
{
    const php_stream_ops *orig = orig_ops(stream);
    return WITH_ORIG(stream, orig->flush(stream));
}

static int w_seek(php_stream *stream, zend_off_t offset, int whence, zend_off_t *newoffset)
{
    const php_stream_ops *orig = orig_ops(stream);
    return WITH_ORIG(stream, orig->seek(stream, offset, whence, newoffset));
}

static int w_cast(php_stream *stream, int castas, void **ret)
{
    const php_stream_ops *orig = orig_ops(stream);
    if ((castas & ~PHP_STREAM_CAST_MASK) != PHP_STREAM_AS_FD_FOR_SELECT) sync_fd(stream);
    return WITH_ORIG(stream, orig->cast(stream, castas, ret));
}

static int w_stat(php_stream *stream, php_stream_statbuf *ssb)
{
    const php_stream_ops *orig = orig_ops(stream);
    return WITH_ORIG(stream, orig->stat(stream, ssb));
}

static pthread_mutex_t wrap_lock = PTHREAD_MUTEX_INITIALIZER;

/* Entries never change once published, so lookups need no lock; PHP
 * threads adding a new one at the same time take the lock. */
static php_stream_ops *wrap_ops(const php_stream_ops *orig, bool plain, zend_long tls_method)
{
    int n = __atomic_load_n(&n_wrapped, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++)
        if (wrapped[i][0].orig == orig && wrapped[i][0].plain == plain && wrapped[i][0].tls_method == tls_method)
            return &wrapped[i][0].ops;
    pthread_mutex_lock(&wrap_lock);
    n = n_wrapped;
    for (int i = 0; i < n; i++) {
        if (wrapped[i][0].orig == orig && wrapped[i][0].plain == plain && wrapped[i][0].tls_method == tls_method) {
            pthread_mutex_unlock(&wrap_lock);
            return &wrapped[i][0].ops;
        }
    }
    if (n == TA_MAX_WRAPPED) { pthread_mutex_unlock(&wrap_lock); return (php_stream_ops *) orig; }
    for (int k = 0; k < 2; k++) {
        ta_wrapped_ops *w = &wrapped[n][k];
        w->orig = orig;
        w->plain = plain;
        w->tls_method = tls_method;
        w->fd_nonblocking = k == 1;
        w->twin = &wrapped[n][1 - k];
        w->ops = *orig;
        w->ops.write = w_write;
        w->ops.read = w_read;
        w->ops.close = w_close;
        w->ops.flush = w_flush;
        w->ops.seek = orig->seek ? w_seek : NULL;
        w->ops.cast = orig->cast ? w_cast : NULL;
        w->ops.stat = orig->stat ? w_stat : NULL;
        w->ops.set_option = orig->set_option ? w_set_option : NULL;
    }
    __atomic_store_n(&n_wrapped, n + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&wrap_lock);
    return &wrapped[n][0].ops;
}

/* The method PHP's TLS transport picks for a protocol name (xp_ssl.c's
 * factory), so the handshake we drive is the one PHP would have made. */
static zend_long tls_method(const char *proto, size_t len, php_stream_context *context)
{
    static const struct { const char *name; zend_long method; } fixed[] = {
        { "tlsv1.0", STREAM_CRYPTO_METHOD_TLSv1_0_CLIENT }, { "tlsv1.1", STREAM_CRYPTO_METHOD_TLSv1_1_CLIENT },
        { "tlsv1.2", STREAM_CRYPTO_METHOD_TLSv1_2_CLIENT }, { "tlsv1.3", STREAM_CRYPTO_METHOD_TLSv1_3_CLIENT },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (strlen(fixed[i].name) == len && strncasecmp(proto, fixed[i].name, len) == 0) return fixed[i].method;
    if ((len == 3 && strncasecmp(proto, "ssl", 3) == 0) || (len == 3 && strncasecmp(proto, "tls", 3) == 0)) {
        zval *v = context ? php_stream_context_get_option(context, "ssl", "crypto_method") : NULL;
        return v ? (zval_get_long(v) | 1 /* xp_ssl.c's STREAM_CRYPTO_IS_CLIENT */) : STREAM_CRYPTO_METHOD_TLS_ANY_CLIENT;
    }
    return 0;
}

static php_stream *w_factory(const char *proto, size_t protolen, const char *resourcename, size_t resourcenamelen,
                             const char *persistent_id, int options, int flags, struct timeval *timeout,
                             php_stream_context *context STREAMS_DC)
{
    php_stream_transport_factory orig = NULL;
    for (int i = 0; i < n_factories; i++) {
        if (strlen(factories[i].name) == protolen && strncasecmp(factories[i].name, proto, protolen) == 0) {
            orig = factories[i].orig;
            break;
        }
    }
    if (!orig) return NULL;
    php_stream *s = orig(proto, protolen, resourcename, resourcenamelen, persistent_id, options, flags,
                         timeout, context STREAMS_CC);
    /* Only socket streams (whose abstract is php_netstream_data_t first). */
    if (s && s->ops && s->ops->set_option && !is_wrapped(s->ops))
        s->ops = wrap_ops(s->ops, plain_transport(proto, protolen),
                          flags & STREAM_XPORT_SERVER ? 0 : tls_method(proto, protolen, context));
    return s;
}

void ta_stream_yield_install(void)
{
    HashTable *xports = php_stream_xport_get_hash();
    zend_string *name;
    php_stream_transport_factory f;
    ZEND_HASH_FOREACH_STR_KEY_PTR(xports, name, f) {
        if (!name || n_factories == TA_MAX_FACTORIES || ZSTR_LEN(name) >= sizeof factories[0].name) continue;
        memcpy(factories[n_factories].name, ZSTR_VAL(name), ZSTR_LEN(name) + 1);
        factories[n_factories].orig = f;
        n_factories++;
    } ZEND_HASH_FOREACH_END();
    for (int i = 0; i < n_factories; i++) php_stream_xport_register(factories[i].name, w_factory);
}

bool ta_stream_is_wrapped(const php_stream *stream) { return is_wrapped(stream->ops); }

void ta_stream_wrap_plain(php_stream *stream)
{
    if (stream->ops && stream->ops->set_option && !is_wrapped(stream->ops)) stream->ops = wrap_ops(stream->ops, true, 0);
}
