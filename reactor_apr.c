/* The reactor backend: registration with the TrueAsync contract, the
 * per-thread libuv loop, execute, startup, shutdown and abandon.
 *
 * Why "_apr" on libuv: reactor_apr.c is the name the product's design card
 * gives the reactor backend file. It implements the TrueAsync reactor
 * contract for the Apache (APR) host, and runs on libuv: there is no APR
 * inside, so PHP threads never touch Apache's pools.
 *
 * The event families live in reactor_<family>.c; what they share is in
 * reactor_event.h/.c. */
#include "reactor_apr.h"
#include "reactor_event.h"

static __thread ta_reactor *tl_reactor;

/* ---- a loop ------------------------------------------------------------------ */

static void no_block_done(uv_idle_t *h) { uv_idle_stop(h); }

static void before_poll(uv_prepare_t *h)
{
    ta_reactor *r = h->data;
    /* Something was delivered this iteration (a timer, say): poll, but do
     * not block, so the caller gets to act on it now. */
    if (r->running && r->delivered != r->delivered_mark) uv_idle_start(&r->no_block, no_block_done);
}

ta_reactor *ta_reactor_new(void)
{
    ta_reactor *r = pecalloc(1, sizeof *r, 1);
    if (uv_loop_init(&r->loop) != 0) {
        pefree(r, 1);
        return NULL;
    }
    uv_prepare_init(&r->loop, &r->before_poll);
    r->before_poll.data = r;
    uv_prepare_start(&r->before_poll, before_poll);
    uv_unref((uv_handle_t *) &r->before_poll);
    uv_idle_init(&r->loop, &r->no_block);
    uv_unref((uv_handle_t *) &r->no_block);
    return r;
}

static bool handle_is_ours(ta_reactor *r, uv_handle_t *h)
{
    for (ta_ev *ev = r->events; ev; ev = ev->next) {
        if (h->data == ev) return true;
    }
    return false;
}

static void close_foreign(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h) && !handle_is_ours(arg, h)) uv_close(h, NULL);
}

static void close_every_event(ta_reactor *r)
{
    for (ta_ev *ev = r->events; ev; ev = ev->next) {
        zend_async_event_t *e = ev->event;
        if (!ZEND_ASYNC_EVENT_IS_DISPOSED(e)) {
            ta_ev_stop_all(e);
            ZEND_ASYNC_EVENT_SET_CLOSED(e);
        }
        ev->ops->release_uv(ev);
    }
    ta_fdset_close(r);
}

void ta_reactor_destroy(ta_reactor *r, bool abandon)
{
    r->stopping = true;
    close_every_event(r);
    uv_walk(&r->loop, close_foreign, r);
    /* Runs close callbacks and waits for thread-pool work already running. */
    uv_run(&r->loop, UV_RUN_DEFAULT);
    while (r->events) {
        ta_ev *ev = r->events;
        ta_ev_unlink(ev);
        if (abandon) ta_ev_abandon(ev);
    }
    if (uv_loop_close(&r->loop) != 0) {
        /* A handle opened by a close callback: one more round. */
        uv_walk(&r->loop, close_foreign, r);
        uv_run(&r->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&r->loop) != 0) return;   /* leak rather than free a live loop */
    }
    pefree(r, 1);
}

ta_reactor *ta_reactor_current(const char *what)
{
    ta_reactor *r = tl_reactor;
    if (r == NULL || r->stopping) {
        zend_throw_error(NULL, "Cannot create %s: the reactor is not running on this thread", what);
        return NULL;
    }
    return r;
}

/* ---- the thread's loop -------------------------------------------------------- */

static bool reactor_startup(void)
{
    if (tl_reactor) return true;
    tl_reactor = ta_reactor_new();
    zend_async_active_event_count = 0;
    return tl_reactor != NULL;
}

static void reactor_teardown(bool abandon)
{
    ta_reactor *r = tl_reactor;
    if (!r) return;
    ta_reactor_destroy(r, abandon);
    tl_reactor = NULL;
    zend_async_active_event_count = 0;
}

static void reactor_shutdown(void) { reactor_teardown(false); }

void ta_reactor_abandon(void)
{
    reactor_teardown(true);
    /* Objects of the layers above may still point at the freed events. */
    ta_async_reactor_abandoned();
}

static bool reactor_loop_alive(void)
{
    ta_reactor *r = tl_reactor;
    return r && (ZEND_ASYNC_ACTIVE_EVENT_COUNT > 0 || uv_loop_alive(&r->loop));
}

/* libuv 1.44's UV_RUN_ONCE runs due timers first and then still blocks in
 * the poll until some other event: a coroutine a timer just woke would
 * wait for that. So a due timer makes this a NOWAIT run, and a delivery
 * during the run (see before_poll) keeps the poll from blocking. */
static bool reactor_execute(bool no_wait)
{
    ta_reactor *r = tl_reactor;
    if (!r) return false;
    if (r->running) return true;    /* called from a callback: refuse to nest */
    r->running = true;
    r->delivered_mark = r->delivered;
    uv_update_time(&r->loop);
    bool due = uv_backend_timeout(&r->loop) == 0;
    uv_run(&r->loop, no_wait || due ? UV_RUN_NOWAIT : UV_RUN_ONCE);
    uv_idle_stop(&r->no_block);
    r->running = false;
    return reactor_loop_alive();
}

uv_loop_t *ta_reactor_loop(void)
{
    return tl_reactor ? &tl_reactor->loop : NULL;
}

/* ---- registration ---------------------------------------------------------------- */

bool ta_reactor_register(void)
{
    return zend_async_reactor_register(
        "mod_trueasync", false,
        reactor_startup, reactor_shutdown, reactor_execute, reactor_loop_alive,
        ta_socket_new, ta_poll_new, ta_timer_new, ta_signal_new,
        ta_process_new, ta_thread_new, ta_fs_new,
        ta_dns_getnameinfo, ta_dns_getaddrinfo, ta_dns_freeaddrinfo,
        ta_exec_new, ta_exec_run);
}
