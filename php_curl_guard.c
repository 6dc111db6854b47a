/* One user at a time for a curl handle that coroutines share.
 *
 * curl_exec() yields inside coroutines (php_curl_yield.c), so with one
 * CurlHandle made at boot and reused by every request (an SDK's client
 * keeps one for keep-alive), request B's curl_setopt() or curl_exec()
 * would land in the middle of request A's transfer: B got "easy handle
 * already used in multi handle", A's curl_error() B's error, and B's
 * CURLOPT_URL or CURLOPT_WRITEFUNCTION could redirect A's transfer.
 *
 * So every curl_* function that takes a handle is wrapped. A coroutine
 * that calls one owns the handle; while the owner is inside a call (its
 * curl_exec() waiting for the network, or a callback of it that waits),
 * another coroutine's call on that handle waits, as a coroutine, behind
 * earlier ones. Once the owner's call returns it keeps the handle until it
 * next yields, which it does not do between curl_exec() and the
 * curl_getinfo()/curl_errno() that read its results, nor between its
 * curl_reset()/curl_setopt() and its curl_exec(): the sequence PHP code
 * runs without waiting stays its own. Then the first waiter takes over.
 * Nothing is held across a yield outside a call, so two requests that use
 * two shared handles in opposite orders cannot deadlock.
 *
 * A CurlMultiHandle is guarded the same way (a callback that waits inside
 * curl_multi_exec() keeps the others' calls out); curl_multi_select() only
 * waits for the network and holds nothing, so coroutines that drive one
 * shared multi handle each for its own transfers all make progress. */
#include "php_curl_guard.h"
#include "php_common.h"
#include "php_fn_hook.h"
#include "php_http_api.h"
#include "ta_log.h"
#include "scheduler.h"
#include "coro_turn.h"

typedef struct {
    ta_coro *owner;             /* the last coroutine that called on the handle */
    uint64_t owner_id;          /* its id (a coroutine freed since may share its address) */
    uint32_t depth;             /* the owner's calls in progress */
    ta_turn_queue queue;        /* waiters, first come first served */
} curl_guard;

/* Guards of this thread's handles that are in use or awaited; an idle one
 * is dropped (a handle freed since cannot find a stale entry: it is kept
 * alive by the calls that use or await it). */
static __thread HashTable *tl_guards;
static zend_class_entry *ce_easy, *ce_multi;

void ta_curl_guard_rinit(void) { tl_guards = NULL; }

void ta_curl_guard_run_end(void)
{
    if (!tl_guards) return;
    curl_guard *g;
    ZEND_HASH_FOREACH_PTR(tl_guards, g) { ta_turn_abandon(&g->queue); } ZEND_HASH_FOREACH_END();
}

static zend_ulong key_of(zend_object *obj) { return (zend_ulong) (uintptr_t) obj; }

static curl_guard *guard_get(zend_object *obj)
{
    if (!tl_guards) {
        ALLOC_HASHTABLE(tl_guards);
        zend_hash_init(tl_guards, 8, NULL, NULL, 0);
    }
    curl_guard *g = zend_hash_index_find_ptr(tl_guards, key_of(obj));
    if (!g) g = zend_hash_index_add_new_ptr(tl_guards, key_of(obj), ecalloc(1, sizeof(curl_guard)));
    return g;
}

static void drop_if_idle(zend_object *obj, curl_guard *g)
{
    if (g->depth || !ta_turn_empty(&g->queue)) return;
    zend_hash_index_del(tl_guards, key_of(obj));
    efree(g);
}

static bool owns(const curl_guard *g, const ta_coro *co) { return g->owner == co && g->owner_id == co->id; }

static void take(curl_guard *g, ta_coro *co)
{
    g->owner = co;
    g->owner_id = co->id;
    g->depth++;
}

/* No call in progress: the first waiter may take it when it runs, which
 * is after the owner yields (waking it twice is harmless). */
static void wake_head(curl_guard *g)
{
    if (!g->depth) ta_turn_wake_first(&g->queue);
}

/* co owns the handle on return (true, one call counted), or was cancelled
 * while waiting (false, its exception pending). A waiter stays in line
 * until its turn comes: first, and the owner out of its calls. */
static bool guard_enter(zend_object *obj, ta_coro *co)
{
    curl_guard *g = guard_get(obj);
    if (owns(g, co) || (!g->depth && ta_turn_empty(&g->queue))) {
        take(g, co);
        return true;
    }
    ta_turn_waiter w;
    ta_turn_join(&g->queue, &w, co, co);
    bool ok = true;
    while (ok && w.state == TA_TURN_WAITING && (ta_turn_first(&g->queue) != &w || g->depth))
        ok = ta_turn_wait(&w) == SUCCESS;
    if (w.state == TA_TURN_REFUSED) return false;   /* the run ended (ta_curl_guard_run_end) */
    if (ok) {
        ta_turn_take(&w);
        take(g, co);
    } else if (w.state == TA_TURN_GAVE_UP) {
        wake_head(g);           /* co may have been woken to take it */
        drop_if_idle(obj, g);
    }
    return ok;
}

static void guard_leave(zend_object *obj, ta_coro *co)
{
    curl_guard *g = tl_guards ? zend_hash_index_find_ptr(tl_guards, key_of(obj)) : NULL;
    if (!g || !owns(g, co) || !g->depth || --g->depth) return;
    if (!ta_turn_empty(&g->queue)) wake_head(g);
    else drop_if_idle(obj, g);
}

/* ---- the wrapped functions -------------------------------------------------- */

/* The curl handles among the call's first two arguments (curl_x($ch),
 * curl_multi_x($mh), curl_multi_add_handle($mh, $ch)). */
static int call_handles(zend_execute_data *execute_data, zend_object **objs)
{
    int n = 0;
    uint32_t argc = MIN(ZEND_CALL_NUM_ARGS(execute_data), 2);
    for (uint32_t i = 1; i <= argc; i++) {
        zval *a = ZEND_CALL_ARG(execute_data, i);
        ZVAL_DEREF(a);
        if (Z_TYPE_P(a) == IS_OBJECT && (Z_OBJCE_P(a) == ce_easy || Z_OBJCE_P(a) == ce_multi))
            objs[n++] = Z_OBJ_P(a);
    }
    return n;
}

/* A fatal error in a callback of a transfer longjmps out of libcurl, which
 * then counts itself inside that callback for good: later calls on the
 * handle fail. Said once here, since nothing else explains them. */
static void bailed_out(zend_execute_data *execute_data, ta_coro *co)
{
    zend_string *fn = EX(func)->common.function_name;
    if (!zend_string_equals_literal(fn, "curl_exec") && !zend_string_equals_literal(fn, "curl_multi_exec")) return;
    ta_exchange *ex = ta_http_coro_exchange(co);
    ta_log(TA_LOG_WARNING, TA_LOGNO(00881) "%s%s%s: a fatal error inside %s() left its curl handle in "
           "libcurl's callback: later calls on that handle fail (a handle the worker keeps for every request "
           "must be made anew)", ex ? ex->req.method : "a coroutine of no request", ex ? " " : "",
           ex ? ex->req.uri : "", ZSTR_VAL(fn));
}

/* The call with its handles held. A fatal error inside it (a callback out
 * of memory) unwinds past this frame: the handles are given up on the way,
 * so their waiters do not wait for ever. */
static void call_held(zif_handler orig, zend_object **objs, int n, ta_coro *co, INTERNAL_FUNCTION_PARAMETERS)
{
    volatile bool bailed = false;
    zend_try {
        orig(INTERNAL_FUNCTION_PARAM_PASSTHRU);
    } zend_catch {
        bailed = true;
    } zend_end_try();
    for (int i = n - 1; i >= 0; i--) guard_leave(objs[i], co);
    if (!bailed) return;
    bailed_out(execute_data, co);
    zend_bailout();
}

static void guarded(zif_handler orig, INTERNAL_FUNCTION_PARAMETERS)
{
    ta_coro *co = ta_coro_current();
    zend_object *objs[2];
    int n = co ? call_handles(execute_data, objs) : 0;
    if (!n) {
        orig(INTERNAL_FUNCTION_PARAM_PASSTHRU);
        return;
    }
    /* curl_multi_add_handle($mh, $ch): the easy handle first, so that
     * nobody holds the multi handle while waiting for another transfer */
    if (n == 2) { zend_object *t = objs[0]; objs[0] = objs[1]; objs[1] = t; }
    for (int i = 0; i < n; i++)
        if (!guard_enter(objs[i], co)) {
            while (i-- > 0) guard_leave(objs[i], co);
            return;             /* cancelled while waiting: its exception is thrown */
        }
    call_held(orig, objs, n, co, INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

#define CURL_GUARDED(X)                                                                  \
    X(curl_close) X(curl_copy_handle) X(curl_errno) X(curl_error) X(curl_exec)          \
    X(curl_getinfo) X(curl_pause) X(curl_reset) X(curl_setopt) X(curl_setopt_array)     \
    X(curl_upkeep) X(curl_multi_add_handle) X(curl_multi_remove_handle)                 \
    X(curl_multi_exec) X(curl_multi_getcontent) X(curl_multi_info_read)                 \
    X(curl_multi_close) X(curl_multi_errno) X(curl_multi_setopt)

#define CURL_WRAPPER(name)                                                               \
    static zif_handler orig_##name;                                                      \
    static ZEND_NAMED_FUNCTION(guard_##name) { guarded(orig_##name, INTERNAL_FUNCTION_PARAM_PASSTHRU); }
CURL_GUARDED(CURL_WRAPPER)

#define CURL_HOOK(name) { #name, &orig_##name, guard_##name },
static const ta_fn_hook curl_hooks[] = { CURL_GUARDED(CURL_HOOK) };

void ta_curl_guard_install(void)
{
    ce_easy = zend_hash_str_find_ptr(CG(class_table), ZEND_STRL("curlhandle"));
    ce_multi = zend_hash_str_find_ptr(CG(class_table), ZEND_STRL("curlmultihandle"));
    if (!ce_easy || !ce_multi) return;
    ta_hook_functions(curl_hooks, sizeof curl_hooks / sizeof curl_hooks[0]);
}
