#include "php_request_session.h"
#include "php_request_ini.h"
#include "php_fn_hook.h"
#include "scheduler.h"

#include <string.h>
#include <pthread.h>

/* ---- the process's session locks -------------------------------------------- */

/* The ids requests of this process hold. PHP's files handler would make a
 * second request with the same id block its thread in flock(); here it
 * waits first, as a coroutine, until the holder lets go. */
typedef struct held { struct held *next; char *id; } held;
static held *locks;
static pthread_mutex_t locks_mu = PTHREAD_MUTEX_INITIALIZER;

static bool try_lock(const char *id)
{
    pthread_mutex_lock(&locks_mu);
    for (held *h = locks; h; h = h->next) {
        if (strcmp(h->id, id) == 0) { pthread_mutex_unlock(&locks_mu); return false; }
    }
    held *h = malloc(sizeof *h);
    char *copy = h ? strdup(id) : NULL;
    if (copy) { h->id = copy; h->next = locks; locks = h; } else free(h);
    pthread_mutex_unlock(&locks_mu);
    return copy != NULL;
}

static void unlock(const char *id)
{
    pthread_mutex_lock(&locks_mu);
    for (held **p = &locks; *p; p = &(*p)->next) {
        if (strcmp((*p)->id, id) == 0) {
            held *h = *p;
            *p = h->next;
            free(h->id);
            free(h);
            break;
        }
    }
    pthread_mutex_unlock(&locks_mu);
}

static __thread ta_request_session *tl_session;

void ta_request_session_bind(ta_request_session *s) { tl_session = s; }

static ta_request_session *live_session(void) { return tl_session; }

static void release(ta_request_session *s)
{
    if (!s->locked) return;
    unlock(s->locked);
    free(s->locked);
    s->locked = NULL;
}

/* Waits (5 ms steps, as a coroutine) until `id` is free and takes it.
 * FAILURE: cancelled while waiting (the exception is pending). */
static zend_result acquire(ta_request_session *s, const char *id)
{
    if (s->locked && strcmp(s->locked, id) == 0) return SUCCESS;
    release(s);
    zval fn, arg, rv;
    ZVAL_STRING(&fn, "Async\\delay");
    ZVAL_LONG(&arg, 5);
    while (!try_lock(id)) {
        ZVAL_UNDEF(&rv);
        call_user_function(NULL, NULL, &fn, &rv, 1, &arg);
        zval_ptr_dtor(&rv);
        if (EG(exception)) { zval_ptr_dtor(&fn); return FAILURE; }
    }
    zval_ptr_dtor(&fn);
    s->locked = strdup(id);
    return SUCCESS;
}

/* The id session_start() will use: session_id() set before, else the
 * request's cookie (or query, when allowed), as PHP looks for it. */
static zend_string *coming_id(void)
{
    if (PS(id) && ZSTR_LEN(PS(id))) return zend_string_copy(PS(id));
    const char *name = PS(session_name);
    if (!name) return NULL;
    static const char *const where[] = { "_COOKIE", "_GET", "_POST" };
    for (int i = 0; i < 3; i++) {
        if (i == 0 && !PS(use_cookies)) continue;
        if (i > 0 && PS(use_only_cookies)) break;
        zval *arr = zend_hash_str_find_deref(&EG(symbol_table), where[i], strlen(where[i]));
        if (!arr || Z_TYPE_P(arr) != IS_ARRAY) continue;
        zval *v = zend_hash_str_find_deref(Z_ARRVAL_P(arr), name, strlen(name));
        if (v && Z_TYPE_P(v) == IS_STRING && Z_STRLEN_P(v)) return zend_string_copy(Z_STR_P(v));
    }
    return NULL;
}

/* After a call that may have opened, closed or renamed the session. */
static void follow(ta_request_session *s)
{
    if (PS(session_status) != php_session_active || !PS(id)) { release(s); return; }
    if (!s->locked || strcmp(s->locked, ZSTR_VAL(PS(id))) != 0) {
        /* a new id (fresh session, regenerate): nobody else can hold it */
        release(s);
        if (try_lock(ZSTR_VAL(PS(id)))) s->locked = strdup(ZSTR_VAL(PS(id)));
    }
}

/* ---- hooks -------------------------------------------------------------------- */

static zif_handler orig_start, orig_write_close, orig_commit, orig_abort, orig_destroy, orig_regenerate,
                   orig_reset, orig_name, orig_save_path, orig_cookie_params, orig_cache_limiter,
                   orig_cache_expire, orig_module_name, orig_set_save_handler;

static ZEND_FUNCTION(ta_session_start)
{
    ta_request_session *s = live_session();
    if (s && PS(session_status) != php_session_active) {
        zend_string *id = coming_id();
        if (id) {
            zend_result rc = acquire(s, ZSTR_VAL(id));
            zend_string_release(id);
            if (rc == FAILURE) RETURN_THROWS();
        }
    }
    orig_start(INTERNAL_FUNCTION_PARAM_PASSTHRU);
    if (s) follow(s);
}

#define FOLLOWING(name, orig) \
    static ZEND_FUNCTION(name) { orig(INTERNAL_FUNCTION_PARAM_PASSTHRU); ta_request_session *s = live_session(); if (s) follow(s); }
FOLLOWING(ta_session_write_close, orig_write_close)
FOLLOWING(ta_session_commit, orig_commit)
FOLLOWING(ta_session_abort, orig_abort)
FOLLOWING(ta_session_destroy, orig_destroy)
FOLLOWING(ta_session_regenerate_id, orig_regenerate)
FOLLOWING(ta_session_reset, orig_reset)

/* These change session.* settings: undone at the end of the request. */
#define REMEMBERING(name, orig, ...) \
    static ZEND_FUNCTION(name) { \
        static const char *const names[] = { __VA_ARGS__, NULL }; \
        for (int i = 0; names[i]; i++) ta_request_ini_remember(names[i]); \
        orig(INTERNAL_FUNCTION_PARAM_PASSTHRU); }
REMEMBERING(ta_session_name, orig_name, "session.name")
REMEMBERING(ta_session_save_path, orig_save_path, "session.save_path")
REMEMBERING(ta_session_set_cookie_params, orig_cookie_params, "session.cookie_lifetime", "session.cookie_path",
            "session.cookie_domain", "session.cookie_secure", "session.cookie_httponly", "session.cookie_samesite")
REMEMBERING(ta_session_cache_limiter, orig_cache_limiter, "session.cache_limiter")
REMEMBERING(ta_session_cache_expire, orig_cache_expire, "session.cache_expire")
REMEMBERING(ta_session_module_name, orig_module_name, "session.save_handler")
REMEMBERING(ta_session_set_save_handler, orig_set_save_handler, "session.save_handler")

void ta_request_session_install(void)
{
    static const ta_fn_hook hooks[] = {
        { "session_start", &orig_start, ZEND_FN(ta_session_start) },
        { "session_write_close", &orig_write_close, ZEND_FN(ta_session_write_close) },
        { "session_commit", &orig_commit, ZEND_FN(ta_session_commit) },
        { "session_abort", &orig_abort, ZEND_FN(ta_session_abort) },
        { "session_destroy", &orig_destroy, ZEND_FN(ta_session_destroy) },
        { "session_regenerate_id", &orig_regenerate, ZEND_FN(ta_session_regenerate_id) },
        { "session_reset", &orig_reset, ZEND_FN(ta_session_reset) },
        { "session_name", &orig_name, ZEND_FN(ta_session_name) },
        { "session_save_path", &orig_save_path, ZEND_FN(ta_session_save_path) },
        { "session_set_cookie_params", &orig_cookie_params, ZEND_FN(ta_session_set_cookie_params) },
        { "session_cache_limiter", &orig_cache_limiter, ZEND_FN(ta_session_cache_limiter) },
        { "session_cache_expire", &orig_cache_expire, ZEND_FN(ta_session_cache_expire) },
        { "session_module_name", &orig_module_name, ZEND_FN(ta_session_module_name) },
        { "session_set_save_handler", &orig_set_save_handler, ZEND_FN(ta_session_set_save_handler) },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}

/* ---- the per-request state ---------------------------------------------------- */

void ta_request_session_init(ta_request_session *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < PS_NUM_APIS; i++) ZVAL_UNDEF(&s->user_names[i]);
    ZVAL_UNDEF(&s->vars);
}

/* Bytes, not values: a thread's PS(send_cookie) and the like are never set
 * before its first session starts, and loading a bool that holds garbage
 * is undefined (UBSan says so). */
#define SWAP(T, a, b) do {                                                  \
        unsigned char tmp_[sizeof(T)];                                      \
        memcpy(tmp_, &(a), sizeof(T));                                      \
        memcpy(&(a), &(b), sizeof(T));                                      \
        memcpy(&(b), tmp_, sizeof(T));                                      \
    } while (0)

void ta_request_session_exchange(ta_request_session *s)
{
    bool first = !s->started;
    SWAP(zend_string *, PS(id), s->id);
    SWAP(void *, PS(mod_data), s->mod_data);
    SWAP(php_session_status, PS(session_status), s->status);
    for (int i = 0; i < PS_NUM_APIS; i++) SWAP(zval, PS(mod_user_names).names[i], s->user_names[i]);
    SWAP(bool, PS(mod_user_implemented), s->user_implemented);
    SWAP(bool, PS(mod_user_is_open), s->user_is_open);
    SWAP(zend_string *, PS(mod_user_class_name), s->user_class_name);
    SWAP(zval, PS(http_session_vars), s->vars);
    SWAP(bool, PS(send_cookie), s->send_cookie);
    SWAP(bool, PS(define_sid), s->define_sid);
    SWAP(bool, PS(in_save_handler), s->in_save_handler);
    SWAP(bool, PS(set_handler), s->set_handler);
    SWAP(zend_string *, PS(session_vars), s->session_vars);
    SWAP(php_session_rfc1867_progress *, PS(rfc1867_progress), s->progress);
    if (first) {
        /* what PHP's request start-up gives a session: none yet (or
         * disabled, as the thread's is without a handler), with the save
         * handler the worker registered (at boot, or kept from a request) */
        s->started = true;
        for (int i = 0; i < PS_NUM_APIS; i++) ZVAL_COPY(&PS(mod_user_names).names[i], &s->user_names[i]);
        if (s->user_class_name) PS(mod_user_class_name) = zend_string_copy(s->user_class_name);
        PS(session_status) = s->status == php_session_disabled ? php_session_disabled : php_session_none;
        PS(send_cookie) = 1;
        PS(define_sid) = 1;
    }
}

void ta_request_session_end(ta_request_session *s)
{
    if (PS(session_status) == php_session_active) php_session_flush(1);
    if (!Z_ISUNDEF(PS(http_session_vars))) {
        zval_ptr_dtor(&PS(http_session_vars));
        ZVAL_UNDEF(&PS(http_session_vars));
    }
    if (PS(mod) && (PS(mod_data) || PS(mod_user_implemented))) PS(mod)->s_close(&PS(mod_data));
    PS(mod_data) = NULL;
    PS(mod_user_implemented) = 0;
    if (PS(id)) { zend_string_release(PS(id)); PS(id) = NULL; }
    if (PS(session_vars)) { zend_string_release(PS(session_vars)); PS(session_vars) = NULL; }
    /* Kept: the request's handler goes where the thread's is stashed (s),
     * so the thread gets it back; the thread's old one is released below.
     * A second call finds none left to keep. */
    if (s->keep_config && !Z_ISUNDEF(PS(mod_user_names).names[0])) {
        SWAP(zend_string *, PS(mod_user_class_name), s->user_class_name);
        for (int i = 0; i < PS_NUM_APIS; i++) SWAP(zval, PS(mod_user_names).names[i], s->user_names[i]);
    }
    if (PS(mod_user_class_name)) { zend_string_release(PS(mod_user_class_name)); PS(mod_user_class_name) = NULL; }
    for (int i = 0; i < PS_NUM_APIS; i++) {
        zval_ptr_dtor(&PS(mod_user_names).names[i]);
        ZVAL_UNDEF(&PS(mod_user_names).names[i]);
    }
    if (PS(session_status) != php_session_disabled) PS(session_status) = php_session_none;
    release(s);
}

void ta_request_session_auto_start(void)
{
    if (!PS(auto_start) || PS(session_status) != php_session_none) return;
    /* through session_start() as the script would call it: the request
     * waits for the session's lock as a coroutine */
    zval fn, rv;
    ZVAL_STRING(&fn, "session_start");
    ZVAL_UNDEF(&rv);
    call_user_function(NULL, NULL, &fn, &rv, 0, NULL);
    zval_ptr_dtor(&rv);
    zval_ptr_dtor(&fn);
}

bool ta_request_session_allow_user(bool on)
{
    bool was = PS(set_handler);
    PS(set_handler) = on;
    return was;
}

void ta_request_session_free(ta_request_session *s)
{
    zval_ptr_dtor(&s->vars);
    for (int i = 0; i < PS_NUM_APIS; i++) zval_ptr_dtor(&s->user_names[i]);
    if (s->id) zend_string_release(s->id);
    if (s->session_vars) zend_string_release(s->session_vars);
    if (s->user_class_name) zend_string_release(s->user_class_name);
    release(s);
    ZVAL_UNDEF(&s->vars);
    s->id = s->session_vars = s->user_class_name = NULL;
}
