/* The load client of bench/shared.sh: every request carries an id of its
 * own, and every answer is checked for it, so a reply that went to the
 * wrong request shows (the answer's "id", and the worker's word for each
 * shared handle it used, bench/shared_worker.php).
 *
 *   sharedc -p PORT [-c CONNS] [-d SECONDS | -n COUNT] [-m MIX] [-s KINDS]
 *           [-l LATE_MS] [-t DEADLINE_S] [-x TAG] [-o LOG] [-b]
 *
 * MIX: weights of the request kinds, e.g. normal=90,abort=3,late=6,slow=1
 *   normal  GET /r: a random subset of the handles; answered in full
 *   abort   GET /r, the socket closed as soon as the request is out
 *   late    GET /r, closed 1..LATE_MS (150) ms later if still unanswered
 *   slow    GET /slow?h=K, K taking turns from KINDS (pdo,pg,raw,predis):
 *           longer than TrueAsyncRequestTimeout, for the module to cancel
 *   check   GET /check: every handle
 * Aborts close with a FIN, every other one with a reset. One connection per
 * request (Connection: close). A request with no complete answer DEADLINE_S
 * (30) after it was sent is a hang (the client gives up on it). -b prints
 * every /check answer ("body ..."). -o writes each answer that was not
 * wholly right: a wrong id, a handle not ok, no answer, a hang.
 * Summary (stdout):
 *   kind K sent N answered N aborted N hang N broken N s200 N s504 N ...
 *   handle H ok N mismatch N error N
 *   idmismatch N
 *   total sent N seconds S rate R
 * Loopback only. */
#define _GNU_SOURCE
#include <errno.h>
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

enum { NORMAL, ABORT, LATE, SLOW, CHECK, NKINDS };
static const char *kind_name[NKINDS] = {"normal", "abort", "late", "slow", "check"};
enum { WD_OK, WD_MISMATCH, WD_ERROR, NWORDS };
static const char *word_name[NWORDS] = {"ok", "mismatch", "error"};
#define MAXH 8

typedef struct {
    long sent, answered, aborted, hang, broken, status[600];
} kind_stats;

static kind_stats ks[NKINDS];
static int weight[NKINDS], wtotal;
static char hname[MAXH][16];
static long hcount[MAXH][NWORDS];
static int nh;
static long idmismatch;

enum { S_IDLE, S_CONNECTING, S_WRITING, S_READING, S_DONE };

typedef struct {
    int fd, kind, state, idx;
    long seq;
    char id[64], req[256];
    size_t reqlen, woff, rlen, rcap;
    char *rbuf;
    uint64_t sent_us, deadline_us, close_us;
} conn_t;

static struct sockaddr_in addr;
static int ep, late_ms = 150, print_bodies;
static FILE *logf;
static char tag[32];
static char slow_kinds[8][16];
static int nslow, slow_next;
static long started, limit_n = -1, in_flight;
static uint64_t stop_us, deadline_span = 30000000;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static uint64_t next_rand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void die(const char *msg)
{
    fprintf(stderr, "sharedc: %s\n", msg);
    exit(2);
}

static void parse_mix(char *mix)
{
    for (char *t = strtok(mix, ","); t; t = strtok(NULL, ",")) {
        char *eq = strchr(t, '=');
        if (!eq) die("MIX: kind=weight,...");
        *eq = 0;
        int k;
        for (k = 0; k < NKINDS && strcmp(kind_name[k], t); k++) ;
        if (k == NKINDS) die("MIX: unknown kind");
        weight[k] = atoi(eq + 1);
    }
    for (int k = 0; k < NKINDS; k++) wtotal += weight[k];
    if (wtotal <= 0) die("MIX: no weight");
}

static int handle_index(const char *name, size_t len)
{
    for (int i = 0; i < nh; i++) if (strlen(hname[i]) == len && !strncmp(hname[i], name, len)) return i;
    if (nh == MAXH || len >= sizeof hname[0]) return -1;
    memcpy(hname[nh], name, len);
    hname[nh][len] = 0;
    return nh++;
}

/* The string value of "key":"..." in body (no escapes in what it reads). */
static int json_str(const char *body, const char *key, const char **v, size_t *len)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(body, pat);
    if (!p) return 0;
    p += strlen(pat);
    const char *e = strchr(p, '"');
    if (!e) return 0;
    *v = p;
    *len = (size_t) (e - p);
    return 1;
}

static void log_req(conn_t *c, const char *what, int status, const char *body)
{
    if (!logf) return;
    fprintf(logf, "%s kind=%s id=%s status=%d ms=%llu body=%.*s\n", what, kind_name[c->kind], c->id, status,
            (unsigned long long) ((now_us() - c->sent_us) / 1000), body ? (int) strcspn(body, "\n") : 0,
            body ? body : "");
    fflush(logf);
}

/* The answer's body checked: its id, each handle's word. */
static void judge(conn_t *c, int status, const char *body)
{
    const char *v;
    size_t len;
    int bad = 0;
    if (print_bodies && c->kind == CHECK) printf("body %d %.*s\n", status, (int) strcspn(body, "\n"), body);
    if (status != 200) { if (c->kind != SLOW) log_req(c, "STATUS", status, body); return; }
    if (!json_str(body, "id", &v, &len) || len != strlen(c->id) || memcmp(v, c->id, len)) {
        idmismatch++;
        log_req(c, "IDMISMATCH", status, body);
        return;
    }
    if (!json_str(body, "sum", &v, &len)) return;
    char sum[256];
    snprintf(sum, sizeof sum, "%.*s", (int) len, v);
    for (char *t = strtok(sum, ","); t; t = strtok(NULL, ",")) {
        char *eq = strchr(t, '=');
        if (!eq) continue;
        int h = handle_index(t, (size_t) (eq - t)), w;
        for (w = 0; w < NWORDS && strcmp(word_name[w], eq + 1); w++) ;
        if (h < 0 || w == NWORDS) continue;
        hcount[h][w]++;
        if (w != WD_OK) bad = 1;
    }
    if (bad) log_req(c, "LAPSE", status, body);
}

/* Parses a complete (closed) response: status, and the body de-chunked in
 * place. 0 when it is not a whole response. */
static int parse_response(conn_t *c, int *status, char **body)
{
    c->rbuf[c->rlen] = 0;
    char *end = strstr(c->rbuf, "\r\n\r\n");
    if (!end || c->rlen < 12 || strncmp(c->rbuf, "HTTP/1.", 7)) return 0;
    *status = atoi(c->rbuf + 9);
    *end = 0;
    int chunked = strcasestr(c->rbuf, "\r\nTransfer-Encoding: chunked") != NULL;
    char *b = end + 4, *out = b, *p = b;
    if (chunked) {
        for (;;) {
            char *e;
            unsigned long sz = strtoul(p, &e, 16);
            if (e == p || !(e = strstr(e, "\r\n"))) return 0;
            if (sz == 0) break;
            p = e + 2;
            if ((size_t) (c->rbuf + c->rlen - p) < sz + 2) return 0;
            memmove(out, p, sz);
            out += sz;
            p += sz + 2;
        }
        *out = 0;
    }
    *body = b;
    return 1;
}

static void finish(conn_t *c)
{
    if (c->fd >= 0) {
        if (c->kind != ABORT && c->kind != LATE) {
            struct linger lg = {1, 0};     /* no TIME_WAIT left on our side */
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(c->fd);
        c->fd = -1;
    }
    in_flight--;
    c->state = S_IDLE;
}

/* The client hangs up: a FIN, or every other time a reset. */
static void hang_up(conn_t *c)
{
    if (c->seq & 1) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ks[c->kind].aborted++;
    close(c->fd);
    c->fd = -1;
    finish(c);
}

static void start(conn_t *c)
{
    if (now_us() >= stop_us || (limit_n >= 0 && started >= limit_n)) return;
    long pick = (long) (next_rand() % (uint64_t) wtotal);
    int k = 0;
    while (pick >= weight[k]) pick -= weight[k++];
    c->kind = k;
    c->seq = started++;
    snprintf(c->id, sizeof c->id, "%s-%d-%ld", tag, c->idx, c->seq);
    char path[128];
    if (k == SLOW) snprintf(path, sizeof path, "/slow?id=%s&h=%s", c->id, slow_kinds[slow_next++ % nslow]);
    else snprintf(path, sizeof path, "/%s?id=%s", k == CHECK ? "check" : "r", c->id);
    c->reqlen = (size_t) snprintf(c->req, sizeof c->req,
                                  "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sharedc\r\nConnection: close\r\n\r\n", path);
    ks[k].sent++;
    in_flight++;
    c->woff = c->rlen = 0;
    c->sent_us = now_us();
    c->deadline_us = c->sent_us + deadline_span;
    c->close_us = k == LATE ? c->sent_us + 1000 + next_rand() % ((uint64_t) late_ms * 1000) : 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { ks[k].broken++; finish(c); return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *) &addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        ks[k].broken++;
        log_req(c, "CONNECT", 0, NULL);
        finish(c);
        return;
    }
    c->state = S_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void broken(conn_t *c, const char *what)
{
    ks[c->kind].broken++;
    c->rbuf[c->rlen] = 0;
    log_req(c, what, 0, c->rlen ? c->rbuf : NULL);
    finish(c);
}

static void on_event(conn_t *c)
{
    if (c->state == S_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) { broken(c, "CONNECT"); return; }
        c->state = S_WRITING;
    }
    if (c->state == S_WRITING) {
        while (c->woff < c->reqlen) {
            ssize_t w = send(c->fd, c->req + c->woff, c->reqlen - c->woff, MSG_NOSIGNAL);
            if (w < 0 && errno == EAGAIN) return;
            if (w < 0) { broken(c, "SEND"); return; }
            c->woff += (size_t) w;
        }
        if (c->kind == ABORT) { hang_up(c); return; }
        c->state = S_READING;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        return;
    }
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            c->rcap = c->rcap ? c->rcap * 2 : 16384;
            c->rbuf = realloc(c->rbuf, c->rcap);
        }
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
        if (n < 0 && errno == EAGAIN) return;
        if (n > 0) { c->rlen += (size_t) n; continue; }
        int status;
        char *body;
        /* at EOF (or a reset after it all came): the whole answer */
        if (!c->rlen || !parse_response(c, &status, &body)) {
            broken(c, n < 0 ? "RESET" : (c->rlen ? "TRUNCATED" : "EMPTY"));
            return;
        }
        ks[c->kind].answered++;
        ks[c->kind].status[status > 0 && status < 600 ? status : 0]++;
        judge(c, status, body);
        finish(c);
        return;
    }
}

/* Late hang-ups due and requests past their deadline. */
static void sweep(conn_t *conns, int nconns)
{
    uint64_t t = now_us();
    for (int i = 0; i < nconns; i++) {
        conn_t *c = &conns[i];
        if (c->state == S_IDLE) { start(c); continue; }
        if (c->close_us && t >= c->close_us && c->state == S_READING) { hang_up(c); start(c); continue; }
        if (t >= c->deadline_us) {
            ks[c->kind].hang++;
            log_req(c, c->state == S_READING ? "HANG" : "HANG-CONNECT", 0, NULL);
            finish(c);
            start(c);
        }
    }
}

static void report(double el)
{
    long total = 0;
    for (int k = 0; k < NKINDS; k++) {
        kind_stats *s = &ks[k];
        if (!s->sent) continue;
        total += s->sent;
        printf("kind %s sent %ld answered %ld aborted %ld hang %ld broken %ld", kind_name[k], s->sent, s->answered,
               s->aborted, s->hang, s->broken);
        for (int st = 0; st < 600; st++) if (s->status[st]) printf(" s%d %ld", st, s->status[st]);
        printf("\n");
    }
    for (int h = 0; h < nh; h++)
        printf("handle %s ok %ld mismatch %ld error %ld\n", hname[h], hcount[h][WD_OK], hcount[h][WD_MISMATCH],
               hcount[h][WD_ERROR]);
    printf("idmismatch %ld\n", idmismatch);
    printf("total sent %ld seconds %.2f rate %.0f\n", total, el, el > 0 ? total / el : 0);
}

int main(int argc, char **argv)
{
    const char *logpath = NULL;
    char mixbuf[256] = "normal=90,abort=3,late=6,slow=1", kinds[128] = "pdo,pg,raw,predis";
    int port = 0, nconns = 64, opt;
    double secs = 0;
    snprintf(tag, sizeof tag, "%lx", (unsigned long) time(NULL) ^ (unsigned long) getpid());
    while ((opt = getopt(argc, argv, "p:c:d:n:m:s:l:t:x:o:b")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'c': nconns = atoi(optarg); break;
        case 'd': secs = atof(optarg); break;
        case 'n': limit_n = atol(optarg); break;
        case 'm': snprintf(mixbuf, sizeof mixbuf, "%s", optarg); break;
        case 's': snprintf(kinds, sizeof kinds, "%s", optarg); break;
        case 'l': late_ms = atoi(optarg); break;
        case 't': deadline_span = (uint64_t) (atof(optarg) * 1e6); break;
        case 'x': snprintf(tag, sizeof tag, "%s", optarg); break;
        case 'o': logpath = optarg; break;
        case 'b': print_bodies = 1; break;
        default: die("usage: sharedc -p PORT [-c CONNS] [-d SECONDS | -n COUNT] [-m MIX] [-s KINDS] [-l LATE_MS] "
                     "[-t DEADLINE_S] [-x TAG] [-o LOG] [-b]");
        }
    }
    if (!port || nconns <= 0 || (secs <= 0 && limit_n < 0) || late_ms <= 0) die("need -p, and -d or -n");
    parse_mix(mixbuf);
    for (char *t = strtok(kinds, ","); t && nslow < 8; t = strtok(NULL, ",")) snprintf(slow_kinds[nslow++], 16, "%s", t);
    if (weight[SLOW] && !nslow) die("slow requests need -s KINDS");
    signal(SIGPIPE, SIG_IGN);
    if (logpath && !(logf = fopen(logpath, "w"))) die("cannot write the log");
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t) port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rng ^= (uint64_t) getpid() << 32 ^ now_us();
    uint64_t t0 = now_us();
    stop_us = t0 + (uint64_t) ((secs > 0 ? secs : 3600) * 1e6);
    ep = epoll_create1(EPOLL_CLOEXEC);
    conn_t *conns = calloc((size_t) nconns, sizeof *conns);
    for (int i = 0; i < nconns; i++) { conns[i].fd = -1; conns[i].idx = i; start(&conns[i]); }
    struct epoll_event evs[256];
    while (in_flight > 0) {
        int n = epoll_wait(ep, evs, 256, 2);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->state == S_IDLE) continue;       /* closed earlier in this batch */
            on_event(c);
            if (c->state == S_IDLE) start(c);
        }
        sweep(conns, nconns);
    }
    if (logf) fclose(logf);
    report((double) (now_us() - t0) / 1e6);
    return 0;
}
