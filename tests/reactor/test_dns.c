/* DNS events: forward lookup of localhost (result owned by the event, or
 * taken over and freed with freeaddrinfo), an unknown host under .invalid
 * (Async\DnsException), reverse lookup, bad requests, dispose with
 * callbacks attached while a lookup is in flight. Loopback only. */
#include "harness.h"

#include <arpa/inet.h>
#include <string.h>

static const struct addrinfo ipv4_stream = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };

static zend_async_dns_addrinfo_t *lookup(const char *node, const char *service, rec *r)
{
    zend_async_dns_addrinfo_t *d = ZEND_ASYNC_GETADDRINFO(node, service, &ipv4_stream);
    if (d) {
        d->base.add_callback(&d->base, rec_callback(r));
        d->base.start(&d->base);
    }
    return d;
}

static bool is_loopback_80(const struct addrinfo *ai)
{
    if (!ai || ai->ai_family != AF_INET) return false;
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ai->ai_addr;
    return sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && sin->sin_port == htons(80);
}

static void test_forward(void)
{
    rec r = {0};
    char node[] = "localhost";
    zend_async_dns_addrinfo_t *d = lookup(node, "80", &r);
    node[0] = 'X';  /* the event copied the request */
    RUN_UNTIL(r.calls > 0, 5000);
    tap_ok(d && r.calls == 1 && r.exception == NULL && is_loopback_80(r.result) && d->result == r.result,
           "localhost:80 resolves to 127.0.0.1:80; the result is also in the event");
    tap_ok(d && strcmp(d->node, "localhost") == 0 && d->hints && d->hints->ai_family == AF_INET
           && ZEND_ASYNC_EVENT_IS_CLOSED(&d->base),
           "the event keeps copies of node and hints, and is closed after firing");
    if (d) ZEND_ASYNC_EVENT_RELEASE(&d->base);     /* frees the list it owns */

    rec t = {0};
    d = lookup("localhost", NULL, &t);
    RUN_UNTIL(t.calls > 0, 5000);
    struct addrinfo *kept = d ? d->result : NULL;
    if (d) d->result = NULL;    /* taken over */
    if (d) ZEND_ASYNC_EVENT_RELEASE(&d->base);
    tap_ok(kept != NULL && kept->ai_family == AF_INET, "a consumer may take the list over and outlive the event");
    ZEND_ASYNC_FREEADDRINFO(kept);
    ZEND_ASYNC_FREEADDRINFO(NULL);
    tap_ok(true, "and frees it with the reactor's freeaddrinfo (NULL is fine)");
}

static void test_unknown_host(void)
{
    rec r = {0};
    zend_async_dns_addrinfo_t *d = lookup("no-such-host.invalid", NULL, &r);
    RUN_UNTIL(r.calls > 0, 10000);
    tap_ok(d && r.calls == 1 && is_instance(r.exception, ta_ce_dns_exception) && r.result == NULL
           && d->result == NULL && exception_code(r.exception) < 0 && EG(exception) == NULL,
           "an unknown host under .invalid is a DnsException: %s",
           r.exception ? exception_message(r.exception) : "(none)");
    tap_ok(r.exception && contains(exception_message(r.exception), "no-such-host.invalid"),
           "the message names the host");
    rec_clear(&r);
    if (d) ZEND_ASYNC_EVENT_RELEASE(&d->base);
}

static void test_reverse(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rec r = {0};
    zend_async_dns_nameinfo_t *n = ZEND_ASYNC_GETNAMEINFO((struct sockaddr *) &sa, NI_NUMERICSERV);
    n->base.add_callback(&n->base, rec_callback(&r));
    n->base.start(&n->base);
    RUN_UNTIL(r.calls > 0, 5000);
    tap_ok(r.calls == 1 && r.result == n && n->hostname && strcmp(n->hostname, "localhost") == 0
           && n->service && strcmp(n->service, "80") == 0,
           "127.0.0.1:80 reverses to localhost / 80 (%s / %s)",
           n->hostname ? n->hostname : "-", n->service ? n->service : "-");
    ZEND_ASYNC_EVENT_RELEASE(&n->base);

    rec b = {0};
    n = ZEND_ASYNC_GETNAMEINFO((struct sockaddr *) &sa, 0x7f000000);
    n->base.add_callback(&n->base, rec_callback(&b));
    n->base.start(&n->base);
    RUN_UNTIL(b.calls > 0, 5000);
    tap_ok(b.calls == 1 && is_instance(b.exception, ta_ce_dns_exception) && n->hostname == NULL,
           "a reverse lookup the resolver rejects is a DnsException: %s",
           b.exception ? exception_message(b.exception) : "(none)");
    rec_clear(&b);
    ZEND_ASYNC_EVENT_RELEASE(&n->base);
}

static void test_bad_requests(void)
{
    zend_async_dns_addrinfo_t *d = ZEND_ASYNC_GETADDRINFO(NULL, NULL, NULL);
    zend_object *ex = take_exception();
    tap_ok(d == NULL && is_instance(ex, zend_ce_error), "a lookup of neither node nor service throws Error");
    if (ex) OBJ_RELEASE(ex);
    struct sockaddr sa = { .sa_family = AF_UNIX };
    zend_async_dns_nameinfo_t *n = ZEND_ASYNC_GETNAMEINFO(&sa, 0);
    ex = take_exception();
    tap_ok(n == NULL && is_instance(ex, zend_ce_error) && contains(exception_message(ex), "not supported"),
           "a reverse lookup of a non-IP address throws Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
}

static void test_dispose_in_flight(void)
{
    rec a = {0}, b = {0};
    zend_async_dns_addrinfo_t *d = lookup("localhost", NULL, &a);
    d->base.add_callback(&d->base, rec_callback(&b));
    ZEND_ASYNC_EVENT_RELEASE(&d->base);
    RUN_FOR(50);
    tap_ok(a.disposed == 1 && b.disposed == 1 && a.calls == 0 && b.calls == 0,
           "a lookup disposed in flight frees its callbacks and reports nothing");
}

static void body(void)
{
    tap_plan(11);
    test_forward();
    test_unknown_host();
    test_reverse();
    test_bad_requests();
    test_dispose_in_flight();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
