/* DNS events: getaddrinfo and getnameinfo on the libuv thread pool, each
 * firing once. Made by the contract's getaddrinfo and getnameinfo slots
 * (php_blocking.c's gethostbyname and friends, PHP streams' connects). The
 * request template they share with thread events is in reactor_event.c. */
#include "reactor_event.h"

#include <string.h>

/* ---- forward lookups -------------------------------------------------------------- */

typedef struct {
    zend_async_dns_addrinfo_t event;
    ta_req_ev rq;
    uv_getaddrinfo_t req;
    struct addrinfo hints;
    char *node, *service;
} ta_addrinfo;

TA_EV_METHODS(addrinfo, ta_addrinfo, rq.ev)

static const char *addrinfo_name(ta_addrinfo *a) { return a->node ? a->node : a->service; }

static void addrinfo_done(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    ta_ev *ev = req->data;
    bool notify;
    if (!ta_req_finished(ev, status, &notify)) {
        if (res) uv_freeaddrinfo(res);
        return;
    }
    ((ta_addrinfo *) ev->event)->event.result = res;
    if (notify) ta_ev_notify(ev, res);
}

static int addrinfo_submit(ta_ev *ev)
{
    ta_addrinfo *a = (ta_addrinfo *) ev->event;
    return uv_getaddrinfo(&ev->reactor->loop, &a->req, addrinfo_done, a->node, a->service, a->event.hints);
}

static void addrinfo_error(ta_ev *ev, int err, bool thrown)
{
    const char *name = addrinfo_name((ta_addrinfo *) ev->event);
    if (thrown) zend_throw_error(NULL, "Failed to start DNS lookup of %s: %s", name, ta_ev_strerror(err));
    else ta_ev_notify_error(ev, ta_ce_dns_exception, err, "DNS lookup of %s failed: %s", name, ta_ev_strerror(err));
}

static void addrinfo_cleanup(ta_ev *ev)
{
    ta_addrinfo *a = (ta_addrinfo *) ev->event;
    if (a->event.result) uv_freeaddrinfo(a->event.result);
    if (a->node) pefree(a->node, 1);
    if (a->service) pefree(a->service, 1);
}

static const ta_req_ops addrinfo_ops = TA_REQ_OPS(addrinfo, addrinfo_cleanup);

zend_async_dns_addrinfo_t *ta_dns_getaddrinfo(const char *node, const char *service,
                                              const struct addrinfo *hints, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("DNS lookup");
    if (!r) return NULL;
    if (node == NULL && service == NULL) {
        zend_throw_error(NULL, "Failed to create DNS lookup: %s", ta_ev_strerror(UV_EINVAL));
        return NULL;
    }
    ta_addrinfo *a = ta_ev_alloc(sizeof *a, extra_size);
    ta_req_init(&a->rq, &a->event.base, sizeof *a, &addrinfo_ops, (uv_req_t *) &a->req);
    a->node = node ? pestrdup(node, 1) : NULL;
    a->service = service ? pestrdup(service, 1) : NULL;
    if (hints) {
        /* Only the four request fields mean anything in hints. */
        a->hints.ai_flags = hints->ai_flags;
        a->hints.ai_family = hints->ai_family;
        a->hints.ai_socktype = hints->ai_socktype;
        a->hints.ai_protocol = hints->ai_protocol;
        a->event.hints = &a->hints;
    }
    a->event.node = a->node;
    a->event.service = a->service;
    ta_ev_link(&a->rq.ev, r);
    return &a->event;
}

void ta_dns_freeaddrinfo(struct addrinfo *ai)
{
    if (ai != NULL) uv_freeaddrinfo(ai);
}

/* ---- reverse lookups --------------------------------------------------------------- */

typedef struct {
    zend_async_dns_nameinfo_t event;
    ta_req_ev rq;
    uv_getnameinfo_t req;
    struct sockaddr_storage addr;
    int flags;
} ta_nameinfo;

TA_EV_METHODS(nameinfo, ta_nameinfo, rq.ev)

static void nameinfo_done(uv_getnameinfo_t *req, int status, const char *hostname, const char *service)
{
    ta_ev *ev = req->data;
    bool notify;
    if (!ta_req_finished(ev, status, &notify)) return;
    ta_nameinfo *n = (ta_nameinfo *) ev->event;
    /* Both point into req, which lives as long as the event. */
    n->event.hostname = hostname;
    n->event.service = service;
    if (notify) ta_ev_notify(ev, &n->event);
}

static int nameinfo_submit(ta_ev *ev)
{
    ta_nameinfo *n = (ta_nameinfo *) ev->event;
    return uv_getnameinfo(&ev->reactor->loop, &n->req, nameinfo_done, (const struct sockaddr *) &n->addr, n->flags);
}

static void nameinfo_error(ta_ev *ev, int err, bool thrown)
{
    if (thrown) zend_throw_error(NULL, "Failed to start reverse DNS lookup: %s", ta_ev_strerror(err));
    else ta_ev_notify_error(ev, ta_ce_dns_exception, err, "Reverse DNS lookup failed: %s", ta_ev_strerror(err));
}

static const ta_req_ops nameinfo_ops = TA_REQ_OPS(nameinfo, NULL);

zend_async_dns_nameinfo_t *ta_dns_getnameinfo(const struct sockaddr *addr, int flags, size_t extra_size)
{
    ta_reactor *r = ta_reactor_current("reverse DNS lookup");
    if (!r) return NULL;
    size_t len = 0;
    if (addr && addr->sa_family == AF_INET) len = sizeof(struct sockaddr_in);
    else if (addr && addr->sa_family == AF_INET6) len = sizeof(struct sockaddr_in6);
    if (len == 0) {
        zend_throw_error(NULL, "Failed to create reverse DNS lookup: %s", ta_ev_strerror(UV_EAFNOSUPPORT));
        return NULL;
    }
    ta_nameinfo *n = ta_ev_alloc(sizeof *n, extra_size);
    ta_req_init(&n->rq, &n->event.base, sizeof *n, &nameinfo_ops, (uv_req_t *) &n->req);
    memcpy(&n->addr, addr, len);
    n->flags = flags;
    ta_ev_link(&n->rq.ev, r);
    return &n->event;
}
