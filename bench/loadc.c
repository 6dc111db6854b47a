/* A small HTTP/1.1 load client for bench/chaos.sh and bench/soak.sh that
 * knows what became of every request it sent (wrk only counts errors per
 * run, not per route, and cannot tell a reset from a truncated body).
 *
 *   loadc -p PORT -f SPEC [-d SECONDS] [-n COUNT] [-k] [-t TIMEOUT_S] [-o LOG]
 *
 * SPEC lines (# comments):
 *   pool  NAME CONNECTIONS
 *   route POOL NAME WEIGHT EXPECT METHOD PATH [CONTENT-TYPE BODY-FILE]
 * Each pool's connections pick one of the pool's routes per request, by
 * weight. EXPECT is the accepted status list ("200", "500"). A request is ok
 * when a complete response (Content-Length, chunked or close-delimited) with
 * an accepted status arrived. Otherwise its kind is: status (complete, other
 * status), connect, reset, empty (closed before any byte), truncated,
 * timeout. New requests start until -d seconds passed or -n were started;
 * then the ones in flight finish (or time out after -t, default 10 s).
 * -k keeps connections alive (default: Connection: close, one connection
 * per request, so a restart's closing of idle connections counts nothing).
 * -o writes one line per request: pool route start_us end_us kind status
 * (wall-clock microseconds). The summary per route goes to stdout:
 *   route NAME sent N ok N status N connect N reset N empty N truncated N timeout N
 * Loopback only: it connects to 127.0.0.1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { K_OK, K_STATUS, K_CONNECT, K_RESET, K_EMPTY, K_TRUNC, K_TIMEOUT, K_N };
static const char *kind_name[K_N] = {"ok", "status", "connect", "reset", "empty", "truncated", "timeout"};

typedef struct {
    char pool[32], name[32];
    int weight, expect[8], nexpect;
    char *req;
    size_t reqlen;
    long sent, n[K_N];
} route_t;

typedef struct {
    char name[32];
    int conns, routes[32], nroutes, total;
} pool_t;

enum { S_IDLE, S_CONNECTING, S_WRITING, S_READING };

typedef struct {
    int fd, pool, route, state, reused;
    size_t woff, rlen, rcap;
    char *rbuf;
    uint64_t start_us, deadline_us;
} conn_t;

static route_t routes[64];
static int nroutes;
static pool_t pools[16];
static int npools;
static int keepalive;
static struct sockaddr_in addr;
static FILE *logf;
static int ep;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static uint64_t next_rand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void die(const char *msg)
{
    fprintf(stderr, "loadc: %s\n", msg);
    exit(2);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open a body file");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t) n + 1);
    if (!b || fread(b, 1, (size_t) n, f) != (size_t) n) die("cannot read a body file");
    fclose(f);
    *len = (size_t) n;
    return b;
}

static void read_spec(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open the spec file");
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *w[10];
        int nw = 0;
        for (char *t = strtok(line, " \t\r\n"); t && nw < 10; t = strtok(NULL, " \t\r\n")) w[nw++] = t;
        if (nw == 0 || w[0][0] == '#') continue;
        if (!strcmp(w[0], "pool") && nw == 3 && npools < 16) {
            pool_t *p = &pools[npools++];
            snprintf(p->name, sizeof p->name, "%s", w[1]);
            p->conns = atoi(w[2]);
        } else if (!strcmp(w[0], "route") && (nw == 7 || nw == 9) && nroutes < 64) {
            route_t *r = &routes[nroutes];
            snprintf(r->pool, sizeof r->pool, "%s", w[1]);
            snprintf(r->name, sizeof r->name, "%s", w[2]);
            r->weight = atoi(w[3]);
            for (char *s = strtok(w[4], ","); s && r->nexpect < 8; s = strtok(NULL, ",")) r->expect[r->nexpect++] = atoi(s);
            size_t blen = 0;
            char *body = nw == 9 ? slurp(w[8], &blen) : NULL;
            char head[1024];
            int hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: loadc\r\nConnection: %s\r\n",
                              w[5], w[6], keepalive ? "keep-alive" : "close");
            if (body) hl += snprintf(head + hl, sizeof head - hl, "Content-Type: %s\r\nContent-Length: %zu\r\n", w[7], blen);
            hl += snprintf(head + hl, sizeof head - hl, "\r\n");
            r->reqlen = (size_t) hl + blen;
            r->req = malloc(r->reqlen);
            memcpy(r->req, head, (size_t) hl);
            if (body) memcpy(r->req + hl, body, blen);
            free(body);
            int pi;
            for (pi = 0; pi < npools && strcmp(pools[pi].name, r->pool); pi++) ;
            if (pi == npools || r->weight <= 0 || pools[pi].nroutes == 32) die("route: unknown pool or bad weight");
            pools[pi].routes[pools[pi].nroutes++] = nroutes;
            pools[pi].total += r->weight;
            nroutes++;
        } else {
            die("bad spec line");
        }
    }
    fclose(f);
    for (int i = 0; i < npools; i++) if (pools[i].nroutes == 0 || pools[i].conns <= 0) die("a pool without routes or connections");
}

static int has_word(const char *l, size_t n, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++) if (!strncasecmp(l + i, w, wl)) return 1;
    return 0;
}

/* 1: complete, 0: need more, -1: malformed. *status and *close are set on 1. */
static int parse(const char *b, size_t n, int at_eof, int *status, int *close_after)
{
    const char *end = memmem(b, n, "\r\n\r\n", 4);
    if (!end) return at_eof && n ? -1 : 0;
    if (n < 12 || strncmp(b, "HTTP/1.", 7)) return -1;
    *status = atoi(b + 9);
    *close_after = b[7] == '0';
    size_t hdr = (size_t) (end - b) + 4;
    long clen = -1;
    int chunked = 0;
    for (const char *l = memchr(b, '\n', hdr) + 1; l < b + hdr - 2;) {
        const char *nl = memchr(l, '\n', (size_t) (b + hdr - l));
        size_t ll = (size_t) (nl - l);
        if (!strncasecmp(l, "Content-Length:", 15)) clen = atol(l + 15);
        else if (!strncasecmp(l, "Transfer-Encoding:", 18) && has_word(l, ll, "chunked")) chunked = 1;
        else if (!strncasecmp(l, "Connection:", 11) && has_word(l, ll, "close")) *close_after = 1;
        l = nl + 1;
    }
    if (*status == 204 || *status == 304) return 1;
    if (chunked) {
        size_t p = hdr;
        for (;;) {
            const char *nl = memmem(b + p, n - p, "\r\n", 2);
            if (!nl) return at_eof ? -1 : 0;
            char *e;
            unsigned long sz = strtoul(b + p, &e, 16);
            if (e == b + p) return -1;
            p = (size_t) (nl - b) + 2;
            if (sz == 0) {  /* trailers, then an empty line */
                for (;;) {
                    const char *t = memmem(b + p, n - p, "\r\n", 2);
                    if (!t) return at_eof ? -1 : 0;
                    if (t == b + p) return 1;
                    p = (size_t) (t - b) + 2;
                }
            }
            if (n - p < sz + 2) return at_eof ? -1 : 0;
            p += sz + 2;
        }
    }
    if (clen >= 0) return n - hdr >= (size_t) clen ? 1 : (at_eof ? -1 : 0);
    *close_after = 1;  /* body until the server closes */
    return at_eof ? 1 : 0;
}

static long started, limit_n = -1;
static uint64_t stop_us, timeout_us = 10000000;
static int in_flight;

static void finish(conn_t *c, int kind, int status, int keep)
{
    route_t *r = &routes[c->route];
    r->n[kind]++;
    in_flight--;
    if (logf) fprintf(logf, "%s %s %llu %llu %s %d\n", r->pool, r->name, (unsigned long long) c->start_us,
                      (unsigned long long) now_us(), kind_name[kind], status);
    if (!keep && c->fd >= 0) {
        /* Abortive close: no TIME_WAIT on our side for a short-lived connection. */
        struct linger lg = {1, 0};
        if (kind == K_OK) setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c->fd);
        c->fd = -1;
    }
    if (keep && c->fd >= 0) {  /* quiet until the next request: a close by the server must not spin */
        struct epoll_event ev = {.events = 0, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    c->state = S_IDLE;
    c->rlen = 0;
}

static void start(conn_t *c)
{
    if (now_us() >= stop_us || (limit_n >= 0 && started >= limit_n)) return;
    pool_t *p = &pools[c->pool];
    long pick = (long) (next_rand() % (uint64_t) p->total);
    int ri = 0;
    for (int i = 0; i < p->nroutes; i++) {
        pick -= routes[p->routes[i]].weight;
        if (pick < 0) { ri = p->routes[i]; break; }
    }
    c->route = ri;
    routes[ri].sent++;
    started++;
    in_flight++;
    c->start_us = now_us();
    c->deadline_us = c->start_us + timeout_us;
    c->woff = c->rlen = 0;
    struct epoll_event ev = {.data.ptr = c};
    if (c->fd >= 0) {
        c->reused = 1;
        c->state = S_WRITING;
        ev.events = EPOLLOUT;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        return;
    }
    c->reused = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { finish(c, K_CONNECT, 0, 0); return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *) &addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        finish(c, K_CONNECT, 0, 0);
        return;
    }
    c->state = S_CONNECTING;
    ev.events = EPOLLOUT;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void fail_io(conn_t *c, int err)
{
    int kind = (err == ECONNRESET || err == EPIPE) ? K_RESET : (c->rlen ? K_TRUNC : K_EMPTY);
    if (err == ECONNREFUSED || c->state == S_CONNECTING) kind = K_CONNECT;
    finish(c, kind, 0, 0);
}

static void on_event(conn_t *c, uint32_t events)
{
    route_t *r = &routes[c->route];
    if (c->state == S_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) { fail_io(c, err); return; }
        c->state = S_WRITING;
    }
    if (c->state == S_WRITING) {
        while (c->woff < r->reqlen) {
            ssize_t w = send(c->fd, r->req + c->woff, r->reqlen - c->woff, MSG_NOSIGNAL);
            if (w < 0 && errno == EAGAIN) return;
            if (w < 0) { fail_io(c, errno); return; }
            c->woff += (size_t) w;
        }
        c->state = S_READING;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        return;
    }
    if (c->state != S_READING) return;
    (void) events;
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            c->rcap = c->rcap ? c->rcap * 2 : 16384;
            c->rbuf = realloc(c->rbuf, c->rcap);
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
        if (n < 0 && errno == EAGAIN) return;
        int status = 0, close_after = 0;
        if (n < 0) {
            /* A reset after a complete close-delimited body still counts as complete. */
            if (c->rlen && parse(c->rbuf, c->rlen, 1, &status, &close_after) == 1) break;
            fail_io(c, errno);
            return;
        }
        if (n == 0) {
            int p = c->rlen ? parse(c->rbuf, c->rlen, 1, &status, &close_after) : -1;
            if (p == 1) { close_after = 1; break; }
            finish(c, c->rlen ? K_TRUNC : K_EMPTY, 0, 0);
            return;
        }
        c->rlen += (size_t) n;
        int p = parse(c->rbuf, c->rlen, 0, &status, &close_after);
        if (p < 0) { finish(c, K_TRUNC, 0, 0); return; }
        if (p == 1) {
            int kind = K_STATUS;
            for (int i = 0; i < r->nexpect; i++) if (r->expect[i] == status) kind = K_OK;
            finish(c, kind, status, keepalive && !close_after);
            return;
        }
    }
    /* complete at EOF or reset (close-delimited body) */
    int status = 0, close_after = 0;
    parse(c->rbuf, c->rlen, 1, &status, &close_after);
    int kind = K_STATUS;
    for (int i = 0; i < r->nexpect; i++) if (r->expect[i] == status) kind = K_OK;
    finish(c, kind, status, 0);
}

int main(int argc, char **argv)
{
    const char *spec = NULL, *logpath = NULL;
    int port = 0, opt;
    double secs = 0;
    while ((opt = getopt(argc, argv, "p:f:d:n:kt:o:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'f': spec = optarg; break;
        case 'd': secs = atof(optarg); break;
        case 'n': limit_n = atol(optarg); break;
        case 'k': keepalive = 1; break;
        case 't': timeout_us = (uint64_t) (atof(optarg) * 1e6); break;
        case 'o': logpath = optarg; break;
        default: die("usage: loadc -p PORT -f SPEC [-d SECONDS] [-n COUNT] [-k] [-t TIMEOUT_S] [-o LOG]");
        }
    }
    if (!port || !spec || (secs <= 0 && limit_n < 0)) die("need -p, -f and -d or -n");
    signal(SIGPIPE, SIG_IGN);
    read_spec(spec);
    if (logpath && !(logf = fopen(logpath, "w"))) die("cannot write the log");
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t) port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rng ^= (uint64_t) getpid() << 32 ^ now_us();
    uint64_t t0 = now_us();
    /* -n alone still has a time bound: one hour. */
    stop_us = t0 + (uint64_t) ((secs > 0 ? secs : 3600) * 1e6);
    ep = epoll_create1(EPOLL_CLOEXEC);
    int nconns = 0;
    for (int i = 0; i < npools; i++) nconns += pools[i].conns;
    conn_t *conns = calloc((size_t) nconns, sizeof *conns);
    for (int i = 0, k = 0; i < npools; i++)
        for (int j = 0; j < pools[i].conns; j++, k++) { conns[k].fd = -1; conns[k].pool = i; }
    for (int i = 0; i < nconns; i++) start(&conns[i]);
    struct epoll_event evs[256];
    uint64_t last_sweep = 0;
    while (in_flight > 0) {
        int n = epoll_wait(ep, evs, 256, 50);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            on_event(c, evs[i].events);
            if (c->state == S_IDLE) start(c);
        }
        uint64_t t = now_us();
        if (t - last_sweep > 50000) {
            last_sweep = t;
            for (int i = 0; i < nconns; i++) {
                conn_t *c = &conns[i];
                if (c->state != S_IDLE && t >= c->deadline_us) finish(c, K_TIMEOUT, 0, 0);
                if (c->state == S_IDLE) start(c);
            }
        }
    }
    for (int i = 0; i < nconns; i++) if (conns[i].fd >= 0) close(conns[i].fd);
    if (logf) fclose(logf);
    double el = (double) (now_us() - t0) / 1e6;
    long total = 0;
    for (int i = 0; i < nroutes; i++) {
        route_t *r = &routes[i];
        total += r->sent;
        printf("route %s sent %ld", r->name, r->sent);
        for (int k = 0; k < K_N; k++) printf(" %s %ld", kind_name[k], r->n[k]);
        printf("\n");
    }
    printf("total sent %ld seconds %.2f rate %.0f\n", total, el, el > 0 ? total / el : 0);
    return 0;
}
