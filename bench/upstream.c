/* A tiny HTTP upstream for bench/io.sh: answers every request after a fixed
 * delay (default 20 ms), on libuv, so it never is the bottleneck. A request
 * that sends "Connection: keep-alive" keeps its connection for the next.
 *   upstream PORT [DELAY_MS]        (loopback only; SIGTERM stops it) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    char buf[4096];
    size_t len;
    int answered;
    int keep;
} conn_t;

static uv_loop_t *loop;
static uint64_t delay_ms = 20;
static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
static const char reply_keep[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";

static void closed_timer(uv_handle_t *h) { free(h->data); }
static void closed_tcp(uv_handle_t *h)
{
    conn_t *c = h->data;
    c->timer.data = c;
    uv_close((uv_handle_t *) &c->timer, closed_timer);
}
static void alloc(uv_handle_t *h, size_t sz, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void written(uv_write_t *w, int status)
{
    conn_t *c = w->data;
    if (status == 0 && c->keep) {
        c->answered = 0;
        c->len = 0;
        if (uv_read_start((uv_stream_t *) &c->tcp, alloc, on_read) == 0) return;
    }
    uv_close((uv_handle_t *) &c->tcp, closed_tcp);
}

static void answer(uv_timer_t *t)
{
    conn_t *c = t->data;
    uv_buf_t b = c->keep ? uv_buf_init((char *) reply_keep, sizeof reply_keep - 1)
                         : uv_buf_init((char *) reply, sizeof reply - 1);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *) &c->tcp, &b, 1, written) != 0)
        uv_close((uv_handle_t *) &c->tcp, closed_tcp);
}

static void alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void) sz;
    conn_t *c = h->data;
    *b = uv_buf_init(c->buf + c->len, (unsigned) (sizeof c->buf - c->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void) b;
    conn_t *c = s->data;
    if (n < 0) { if (!c->answered) { uv_read_stop(s); uv_close((uv_handle_t *) s, closed_tcp); } return; }
    c->len += (size_t) n;
    c->buf[c->len] = 0;
    if (!c->answered && strstr(c->buf, "\r\n\r\n")) {
        c->answered = 1;
        c->keep = strcasestr(c->buf, "\r\nConnection: keep-alive") != NULL;
        uv_read_stop(s);
        uv_timer_start(&c->timer, answer, delay_ms, 0);
    } else if (c->len >= sizeof c->buf - 1) {
        uv_read_stop(s);
        uv_close((uv_handle_t *) s, closed_tcp);
    }
}

static void on_conn(uv_stream_t *srv, int status)
{
    if (status < 0) return;
    conn_t *c = calloc(1, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    if (uv_accept(srv, (uv_stream_t *) &c->tcp) == 0) uv_read_start((uv_stream_t *) &c->tcp, alloc, on_read);
    else uv_close((uv_handle_t *) &c->tcp, closed_tcp);
}

static void on_signal(uv_signal_t *s, int sig) { (void) sig; uv_stop(s->loop); }

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: upstream PORT [DELAY_MS]\n"); return 2; }
    if (argc > 2) delay_ms = strtoull(argv[2], NULL, 10);
    loop = uv_default_loop();
    uv_tcp_t srv;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &srv);
    if (uv_tcp_bind(&srv, (const struct sockaddr *) &addr, 0) || uv_listen((uv_stream_t *) &srv, 1024, on_conn)) {
        fprintf(stderr, "upstream: cannot listen on %s\n", argv[1]);
        return 1;
    }
    uv_signal_t sig;
    uv_signal_init(loop, &sig);
    uv_signal_start(&sig, on_signal, SIGTERM);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
