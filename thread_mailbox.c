#include "thread_mailbox.h"

#include <string.h>

int ta_mailbox_init(ta_mailbox *m, int index, unsigned capacity)
{
    memset(m, 0, sizeof *m);
    m->index = index;
    int rc = ta_queue_init(&m->queue, capacity);
    if (rc) return rc;
    if ((rc = ta_notifier_init(&m->wake, TA_NOTIFIER_AUTO))) { ta_queue_destroy(&m->queue); return rc; }
    if ((rc = pthread_mutex_init(&m->lock, NULL))) {
        ta_notifier_destroy(&m->wake);
        ta_queue_destroy(&m->queue);
        return rc;
    }
    return 0;
}

void ta_mailbox_destroy(ta_mailbox *m)
{
    ta_queue_destroy(&m->queue);
    ta_notifier_destroy(&m->wake);
    pthread_mutex_destroy(&m->lock);
}

int ta_mailbox_alive(ta_mailbox *m)
{
    int s = ta_mailbox_state(m);
    return (s == TA_PHP_THREAD_BOOTING || s == TA_PHP_THREAD_READY || s == TA_PHP_THREAD_RECYCLING) && !ta_mailbox_stopping(m)
           && !ta_mailbox_retiring(m);
}

static void raise_locked(ta_mailbox *m)
{
    __atomic_store_n(&m->interrupt, 1, __ATOMIC_RELEASE);
    if (m->raise_fn) m->raise_fn(m->raise_arg);
}

void ta_mailbox_interrupt(ta_mailbox *m)
{
    pthread_mutex_lock(&m->lock);
    raise_locked(m);
    pthread_mutex_unlock(&m->lock);
}

void ta_mailbox_raise(ta_mailbox *m)
{
    pthread_mutex_lock(&m->lock);
    if (m->raise_fn) m->raise_fn(m->raise_arg);
    pthread_mutex_unlock(&m->lock);
}

/* A Dekker handshake, every access seq_cst: the waker stores news, then
 * reads awake; the thread stores awake = 0, then reads news. In any order
 * the two run, one of them sees the other's store: the thread does not
 * block, or the waker writes the notifier (which stays readable until the
 * loop drains it, so a write before the thread blocks still wakes it). The
 * thread takes the news with an exchange before it looks at what was
 * published: reading a waker's 1 orders that waker's data before its look. */
void ta_mailbox_wake(ta_mailbox *m)
{
    __atomic_store_n(&m->news, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&m->awake, __ATOMIC_SEQ_CST)) ta_notifier_signal(&m->wake);
}

int ta_mailbox_take_news(ta_mailbox *m)
{
    /* a plain load first: no write to the shared line when nothing came */
    if (!__atomic_load_n(&m->news, __ATOMIC_SEQ_CST)) return 0;
    return __atomic_exchange_n(&m->news, 0, __ATOMIC_SEQ_CST);
}

int ta_mailbox_sleep(ta_mailbox *m)
{
    __atomic_store_n(&m->awake, 0, __ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&m->news, __ATOMIC_SEQ_CST)) return 1;
    __atomic_store_n(&m->awake, 1, __ATOMIC_SEQ_CST);
    return 0;
}

void ta_mailbox_set_awake(ta_mailbox *m, int awake)
{
    __atomic_store_n(&m->awake, awake, __ATOMIC_SEQ_CST);
}

void ta_mailbox_post(ta_exchange *ex)
{
    ta_mailbox *m = ex->php_thread;
    int gone = ta_exchange_is_aborted(ex);
    pthread_mutex_lock(&m->lock);
    if (!ex->in_inbox) {
        ex->in_inbox = 1;
        ta_exchange_ref(ex);
        ex->inbox_next = m->inbox;
        m->inbox = ex;
    }
    if (gone) raise_locked(m);
    pthread_mutex_unlock(&m->lock);
    ta_mailbox_wake(m);
}

void ta_mailbox_request_stop(ta_mailbox *m)
{
    __atomic_store_n(&m->stop, 1, __ATOMIC_RELEASE);
    ta_queue_close(&m->queue);
    ta_mailbox_wake(m);
}

void ta_mailbox_request_cancel(ta_mailbox *m)
{
    __atomic_store_n(&m->cancel, 1, __ATOMIC_RELEASE);
    ta_mailbox_interrupt(m);
    ta_mailbox_wake(m);
}

void ta_mailbox_request_retire(ta_mailbox *m)
{
    ta_queue_close(&m->queue);
    __atomic_store_n(&m->retire, 1, __ATOMIC_RELEASE);
    ta_mailbox_wake(m);
}

void ta_mailbox_reset(ta_mailbox *m)
{
    ta_exchange *ex = ta_mailbox_take_inbox(m);
    while (ex) {
        ta_exchange *next = ex->inbox_next;
        ta_exchange_release(ex);
        ex = next;
    }
    __atomic_store_n(&m->stop, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->cancel, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->interrupt, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->retire, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->exited, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&m->awake, 0, __ATOMIC_SEQ_CST);
    uint32_t slowlog = m->watch.slowlog_ms;
    memset(&m->watch, 0, sizeof m->watch);
    m->watch.slowlog_ms = slowlog;
    ta_notifier_drain(&m->wake);
    ta_mailbox_set_state(m, TA_PHP_THREAD_IDLE);
}

ta_exchange *ta_mailbox_take_inbox(ta_mailbox *m)
{
    pthread_mutex_lock(&m->lock);
    ta_exchange *ex = m->inbox;
    m->inbox = NULL;
    for (ta_exchange *e = ex; e; e = e->inbox_next) e->in_inbox = 0;
    pthread_mutex_unlock(&m->lock);
    return ex;
}

void ta_mailbox_set_interrupt(ta_mailbox *m, void (*raise_fn)(void *), void *arg)
{
    pthread_mutex_lock(&m->lock);
    m->raise_fn = raise_fn;
    m->raise_arg = arg;
    pthread_mutex_unlock(&m->lock);
}

int ta_mailbox_take_interrupt(ta_mailbox *m)
{
    return __atomic_exchange_n(&m->interrupt, 0, __ATOMIC_ACQ_REL);
}

bool ta_mailbox_has_news(void *box)
{
    ta_mailbox *m = box;
    if (__atomic_load_n(&m->queue.queued, __ATOMIC_RELAXED) || __atomic_load_n(&m->cancel, __ATOMIC_ACQUIRE)
        || (ta_watch_peek(&m->watch) & TA_WATCH_DEADLINE))
        return true;
    pthread_mutex_lock(&m->lock);
    bool inbox = m->inbox != NULL;
    pthread_mutex_unlock(&m->lock);
    return inbox;
}
