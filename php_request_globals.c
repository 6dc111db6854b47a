#include "php_request_globals.h"

#include <main/rfc1867.h>
#include <ext/standard/basic_functions.h>
#include <zend_smart_str.h>
#include <ctype.h>

static __thread ta_request_globals *tl_live;

ta_request_globals *ta_rglobals_live(void) { return tl_live; }

/* ---- superglobals made on first use -------------------------------------- */

/* PHP makes $_SERVER and $_REQUEST when compiled code first names them
 * (auto_globals_jit); opcache repeats that when it loads a cached script.
 * Requests only get them made once some code of this boot used them. */
/* This thread's entries: each thread has its own copy of the table, freed
 * when the thread exits (TrueAsyncThreads MIN MAX retires threads while the
 * others serve), so never shared. */
static __thread zend_auto_global *ag[TA_SG_N];
static bool (*orig_cb[TA_SG_N])(zend_string *name);
static __thread unsigned tl_used;
static const char *const sg_names[TA_SG_N] = { "_GET", "_POST", "_COOKIE", "_SERVER", "_FILES", "_REQUEST",
                                                "_SESSION" };
static zend_string *sg_str[TA_SG_N];

void ta_rglobals_minit(void)
{
    /* $_SESSION is no auto global: a permanent name of our own */
    sg_str[TA_SG_SESSION] = zend_string_init_interned("_SESSION", 8, 1);
}

static bool first_use(int which, zend_string *name)
{
    tl_used |= 1u << which;
    if (tl_live) tl_live->built |= 1u << which;
    return orig_cb[which](name);     /* makes the live request's (or the thread's) */
}

static bool first_use_server(zend_string *name) { return first_use(TA_SG_SERVER, name); }
static bool first_use_request(zend_string *name) { return first_use(TA_SG_REQUEST, name); }

void ta_rglobals_thread_init(void)
{
    for (int i = 0; i < TA_SG_SESSION; i++) {
        zend_auto_global *a = zend_hash_str_find_ptr(CG(auto_globals), sg_names[i], strlen(sg_names[i]));
        if (!a) continue;
        sg_str[i] = a->name;        /* interned at start-up: the same on every thread */
        /* the same originals on every thread (copies of one table) */
        if (!orig_cb[i]) orig_cb[i] = a->auto_global_callback;
        if (i == TA_SG_SERVER && a->jit) a->auto_global_callback = first_use_server;
        if (i == TA_SG_REQUEST && a->jit) a->auto_global_callback = first_use_request;
        ag[i] = a;
    }
}

void ta_rglobals_boot_reset(void)
{
    tl_used = 0;
    /* Without auto_globals_jit PHP makes them all at start-up. */
    if (!PG(auto_globals_jit)) tl_used = (1u << TA_SG_SERVER) | (1u << TA_SG_REQUEST);
    /* Made during the boot's start-up already (zlib.output_compression
     * reads $_SERVER there): compiled code never asks for it again. */
    for (int i = TA_SG_SERVER; i <= TA_SG_REQUEST; i++) {
        zend_auto_global *a = sg_str[i] ? zend_hash_find_ptr(CG(auto_globals), sg_str[i]) : NULL;
        if (a && a->jit && !a->armed) tl_used |= 1u << i;
    }
}

/* ---- set-up ---------------------------------------------------------------- */

static const char *req_header(const ta_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_headers; i++)
        if (strcasecmp(rq->headers[i].name, name) == 0) return rq->headers[i].value;
    return NULL;
}

void ta_rglobals_init(ta_request_globals *g, const ta_request *rq, const char *script)
{
    memset(g, 0, sizeof *g);
    g->req = rq;
    g->script = script;
    sapi_request_info *ri = &g->ri;
    ri->request_method = rq->method;
    ri->query_string = rq->query;
    ri->request_uri = rq->uri;
    ri->path_translated = (char *) script;
    ri->content_type = req_header(rq, "Content-Type");
    ri->content_length = (zend_long) rq->body_len;
    const char *p = rq->protocol;
    ri->proto_num = (p && strlen(p) == 8 && strncmp(p, "HTTP/", 5) == 0 && isdigit((unsigned char) p[5])
                     && isdigit((unsigned char) p[7])) ? (p[5] - '0') * 1000 + (p[7] - '0') : 1000;
    zend_llist_init(&g->sh.headers, sizeof(sapi_header_struct), (void (*)(void *)) sapi_free_header, 0);
    g->sh.http_response_code = 200;
    g->sh.send_default_content_type = 1;
    g->request_time = (double) rq->request_time_us / 1000000.0;
    ZVAL_UNDEF(&g->callback);
    ta_request_session_init(&g->session);
    for (int i = 0; i < NUM_TRACK_VARS; i++) ZVAL_UNDEF(&g->pg[i]);
    for (int i = 0; i < TA_SG_N; i++) ZVAL_UNDEF(&g->sym[i]);
}

/* Cookie headers (HTTP/2 may send several) as PHP reads them: one string. */
static char *cookie_data(ta_request_globals *g)
{
    const ta_request *rq = g->req;
    const char *one = NULL;
    size_t n = 0, len = 0;
    for (size_t i = 0; i < rq->n_headers; i++) {
        if (strcasecmp(rq->headers[i].name, "Cookie") != 0) continue;
        one = rq->headers[i].value;
        len += strlen(one) + 2;
        n++;
    }
    if (n <= 1) return (char *) one;
    g->cookies = emalloc(len + 1);
    g->cookies[0] = '\0';
    for (size_t i = 0; i < rq->n_headers; i++) {
        if (strcasecmp(rq->headers[i].name, "Cookie") != 0) continue;
        if (g->cookies[0]) strcat(g->cookies, "; ");
        strcat(g->cookies, rq->headers[i].value);
    }
    return g->cookies;
}

/* What sapi_activate() does with a POST body (its reader is static there):
 * pick the handler registered for the content type and let it read. */
static void read_post_data(void)
{
    size_t n = strlen(SG(request_info).content_type);
    char *ct = estrndup(SG(request_info).content_type, n);
    size_t type_len = n;
    for (size_t i = 0; i < n; i++) {
        if (ct[i] == ';' || ct[i] == ',' || ct[i] == ' ') { type_len = i; break; }
        ct[i] = (char) tolower((unsigned char) ct[i]);
    }
    sapi_post_entry *pe = zend_hash_str_find_ptr(&SG(known_post_content_types), ct, type_len);
    SG(request_info).post_entry = pe;
    if (!pe && !sapi_module.default_post_reader) {
        efree(ct);
        SG(request_info).content_type_dup = NULL;
        return;
    }
    SG(request_info).content_type_dup = ct;
    if (pe && pe->post_reader) pe->post_reader();
    if (sapi_module.default_post_reader) sapi_module.default_post_reader();
}

static void make(int which)
{
    if (ag[which] && orig_cb[which]) orig_cb[which](ag[which]->name);
}

static void set_empty(int which, int track)
{
    if (!sg_str[which]) return;
    zval_ptr_dtor(&PG(http_globals)[track]);
    ZVAL_EMPTY_ARRAY(&PG(http_globals)[track]);
    zval e;
    ZVAL_EMPTY_ARRAY(&e);
    zend_hash_update(&EG(symbol_table), sg_str[which], &e);
}

/* What php_request_startup() does for a request, on its own globals. */
static void set_up_in_startup(ta_request_globals *g);

/* PHP's request start-up runs no script: its warnings (POST over
 * post_max_size, max_input_vars) say "PHP Request Startup" and "Unknown on
 * line 0", not the function and line the coroutine was started from. */
static void set_up(ta_request_globals *g)
{
    zend_execute_data *ed = EG(current_execute_data);
    bool during = PG(during_request_startup);
    EG(current_execute_data) = NULL;
    PG(during_request_startup) = 1;
    set_up_in_startup(g);
    PG(during_request_startup) = during;
    EG(current_execute_data) = ed;
}

static void set_up_in_startup(ta_request_globals *g)
{
    g->started = true;
    SG(request_info).cookie_data = cookie_data(g);
    php_handle_auth_data(req_header(g->req, "Authorization"));
    if (PG(enable_post_data_reading) && SG(request_info).content_type && SG(request_info).request_method
        && strcmp(SG(request_info).request_method, "POST") == 0)
        read_post_data();
    /* not once a start-up warning displayed went out, as PHP */
    if (PG(expose_php) && !SG(headers_sent))
        sapi_add_header(SAPI_PHP_VERSION_HEADER, sizeof(SAPI_PHP_VERSION_HEADER) - 1, 1);
    ta_request_zlib_start(req_header(g->req, "Accept-Encoding"));
    /* In PHP's order: $_FILES after $_POST (the upload handler fills it).
     * Nothing to parse: the shared empty array, no allocation (the common
     * case of a GET without query or cookies costs next to nothing). */
    const char *q = SG(request_info).query_string, *c = SG(request_info).cookie_data;
    if (q && *q) make(TA_SG_GET); else set_empty(TA_SG_GET, TRACK_VARS_GET);
    if (SG(request_info).request_method && strcasecmp(SG(request_info).request_method, "POST") == 0)
        make(TA_SG_POST);
    else
        set_empty(TA_SG_POST, TRACK_VARS_POST);
    if (c && *c) make(TA_SG_COOKIE); else set_empty(TA_SG_COOKIE, TRACK_VARS_COOKIE);
    if (Z_TYPE(PG(http_globals)[TRACK_VARS_FILES]) != IS_UNDEF) make(TA_SG_FILES);
    else set_empty(TA_SG_FILES, TRACK_VARS_FILES);
    g->built = (1u << TA_SG_GET) | (1u << TA_SG_POST) | (1u << TA_SG_COOKIE) | (1u << TA_SG_FILES);
}

/* Some code used $_SERVER or $_REQUEST since this request last ran. */
static void make_missing(ta_request_globals *g)
{
    unsigned missing = tl_used & ~g->built;
    if (missing & (1u << TA_SG_SERVER)) make(TA_SG_SERVER);
    if (missing & (1u << TA_SG_REQUEST)) make(TA_SG_REQUEST);
    g->built |= missing;
}

/* ---- the exchange ---------------------------------------------------------- */

#define SWAP(T, a, b) do { T tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)

/* A superglobal's symbol: its value moves between the symbol table and g;
 * absent stays absent (opcache takes a present $_SERVER for a used one). */
static void swap_symbol(zend_string *name, zval *mine)
{
    zval *slot = zend_hash_find_known_hash(&EG(symbol_table), name);
    if (slot) {
        zval tmp;
        ZVAL_COPY_VALUE(&tmp, slot);
        if (Z_TYPE_P(mine) == IS_UNDEF) {
            ZVAL_NULL(slot);
            zend_hash_del(&EG(symbol_table), name);
        } else {
            ZVAL_COPY_VALUE(slot, mine);
        }
        ZVAL_COPY_VALUE(mine, &tmp);
    } else if (Z_TYPE_P(mine) != IS_UNDEF) {
        zend_hash_add_new(&EG(symbol_table), name, mine);
        ZVAL_UNDEF(mine);
    }
}

static void swap_bytes(void *a, void *b, size_t n)
{
    char tmp[sizeof(url_adapt_state_ex_t)];
    memcpy(tmp, a, n);
    memcpy(a, b, n);
    memcpy(b, tmp, n);
}

/* What PHP's url_scanner shutdown frees (its rewriter handler has ended
 * with the request's output layer). */
static void url_state_free(url_adapt_state_ex_t *u)
{
    smart_str *all[] = { &u->tag, &u->arg, &u->val, &u->buf, &u->result, &u->form_app, &u->url_app, &u->attr_val };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) smart_str_free(all[i]);
    memset(u, 0, XtOffsetOf(url_adapt_state_ex_t, tags));
}

static void exchange(ta_request_globals *g)
{
    sapi_globals_struct *sg = (sapi_globals_struct *) &SG(server_context);   /* its first field */
    SWAP(sapi_request_info, sg->request_info, g->ri);
    SWAP(sapi_headers_struct, sg->sapi_headers, g->sh);
    SWAP(int64_t, sg->read_post_bytes, g->read_post_bytes);
    SWAP(unsigned char, sg->post_read, g->post_read);
    SWAP(unsigned char, sg->headers_sent, g->headers_sent);
    SWAP(HashTable *, sg->rfc1867_uploaded_files, g->uploads);
    SWAP(double, sg->global_request_time, g->request_time);
    SWAP(zval, sg->callback_func, g->callback);
    SWAP(zend_fcall_info_cache, sg->fci_cache, g->callback_fcc);
    for (int i = 0; i < NUM_TRACK_VARS; i++)
        if (i != TRACK_VARS_ENV) SWAP(zval, PG(http_globals)[i], g->pg[i]);
    for (int i = 0; i < TA_SG_N; i++) if (sg_str[i]) swap_symbol(sg_str[i], &g->sym[i]);
    SWAP(HashTable *, BG(user_shutdown_function_names), g->shutdown_fns);
    swap_bytes(&BG(url_adapt_output_ex), &g->url_out, XtOffsetOf(url_adapt_state_ex_t, tags));
    swap_bytes(&BG(url_adapt_session_ex), &g->url_sess, XtOffsetOf(url_adapt_state_ex_t, tags));
    ta_request_session_exchange(&g->session);
    ta_request_zlib_exchange(&g->zlib);
    ta_request_date_exchange(&g->date);
    ta_request_errors_exchange(&g->errors);
    ta_request_random_exchange(&g->random);
}

static void bind_live(ta_request_globals *g)
{
    tl_live = g;
    ta_request_ini_bind(g ? &g->ini : NULL);
    ta_request_cwd_bind(g ? &g->cwd : NULL);
    ta_request_random_bind(g ? &g->random : NULL);
    ta_request_session_bind(g ? &g->session : NULL);
}

void ta_rglobals_swap(ta_request_globals *g)
{
    if (!g->live) {
        /* the thread's own headers_sent/no_headers (set at boot) keep
         * header() away from code outside requests */
        /* its settings before its session state: session.* refuse
         * changes while a session is active */
        bool was = ta_request_session_allow_user(true);
        ta_request_ini_swap_in(&g->ini);
        ta_request_session_allow_user(was);
        ta_request_cwd_swap_in(&g->cwd);
        exchange(g);
        g->live = true;
        g->prev_live = tl_live;
        bind_live(g);
        if (!g->started) set_up(g);
        if (tl_used & ~g->built) make_missing(g);
    } else {
        exchange(g);
        g->live = false;
        bind_live(g->prev_live);
        bool was = ta_request_session_allow_user(true);
        ta_request_ini_swap_out(&g->ini);
        ta_request_session_allow_user(was);
        ta_request_cwd_swap_out(&g->cwd);
    }
}

/* what a Response without globals (after a fatal error) reads and writes */
static __thread int tl_no_status = 200;
static __thread unsigned char tl_no_sent = 1;

int *ta_rglobals_status(ta_request_globals *g)
{
    if (!g) return &tl_no_status;
    return g->live ? &SG(sapi_headers).http_response_code : &g->sh.http_response_code;
}

const char *ta_rglobals_status_line(ta_request_globals *g)
{
    return g->live ? SG(sapi_headers).http_status_line : g->sh.http_status_line;
}

unsigned char *ta_rglobals_headers_sent(ta_request_globals *g)
{
    if (!g) return &tl_no_sent;
    return g->live ? &SG(headers_sent) : &g->headers_sent;
}

/* ---- the SAPI's view of the live request ---------------------------------- */

size_t ta_rglobals_read_post(char *buf, size_t len)
{
    ta_request_globals *g = tl_live;
    if (!g) return 0;
    const ta_request *rq = g->req;
    size_t off = (size_t) SG(read_post_bytes);
    if (off >= rq->body_len) return 0;
    size_t n = rq->body_len - off < len ? rq->body_len - off : len;
    memcpy(buf, rq->body + off, n);
    return n;
}

static void reg(const char *name, const char *value, zval *arr)
{
    if (value) php_register_variable_safe(name, value, strlen(value), arr);
}

static void reg_int(const char *name, long v, zval *arr)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%ld", v);
    reg(name, buf, arr);
}

/* HTTP_* as Apache makes them: upper case, '-' to '_'; a name with any
 * other character (an '_' could pose as a '-') is left out, as Apache 2.4
 * does. Authorization stays out of $_SERVER like in Apache's CGI
 * environment; PHP_AUTH_* come from it instead. */
static void reg_header(const ta_kv *h, zval *arr)
{
    if (strcasecmp(h->name, "Content-Type") == 0 || strcasecmp(h->name, "Content-Length") == 0
        || strcasecmp(h->name, "Authorization") == 0 || strcasecmp(h->name, "Proxy-Authorization") == 0)
        return;
    size_t n = strlen(h->name);
    char stackbuf[128], *name = n + 6 <= sizeof stackbuf ? stackbuf : emalloc(n + 6);
    memcpy(name, "HTTP_", 5);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) h->name[i];
        if (isalnum(c)) name[5 + i] = (char) toupper(c);
        else if (c == '-') name[5 + i] = '_';
        else { if (name != stackbuf) efree(name); return; }
    }
    name[5 + n] = '\0';
    zval *old = zend_hash_str_find(Z_ARRVAL_P(arr), name, n + 5);
    if (old && Z_TYPE_P(old) == IS_STRING) {
        /* a repeated header: one line, as Apache joins them */
        zend_string *j = zend_string_concat3(Z_STRVAL_P(old), Z_STRLEN_P(old), ", ", 2, h->value, strlen(h->value));
        zval v;
        ZVAL_STR(&v, j);
        zend_hash_str_update(Z_ARRVAL_P(arr), name, n + 5, &v);
    } else {
        reg(name, h->value, arr);
    }
    if (name != stackbuf) efree(name);
}

/* SCRIPT_NAME: the worker script's path under the document root, else its
 * file name (a front controller answers for every URI, like index.php). */
static void reg_script(const ta_request_globals *g, zval *arr)
{
    const char *root = g->req->document_root, *s = g->script;
    if (!s) return;
    size_t rl = root ? strlen(root) : 0;
    while (rl && root[rl - 1] == '/') rl--;
    const char *name;
    char *tmp = NULL;
    if (rl && strncmp(s, root, rl) == 0 && s[rl] == '/') {
        name = s + rl;
    } else {
        const char *b = strrchr(s, '/');
        const char *base = b ? b + 1 : s;
        size_t n = strlen(base);
        tmp = emalloc(n + 2);
        tmp[0] = '/';
        memcpy(tmp + 1, base, n + 1);
        name = tmp;
    }
    reg("SCRIPT_FILENAME", s, arr);
    reg("SCRIPT_NAME", name, arr);
    reg("PHP_SELF", name, arr);
    if (tmp) efree(tmp);
}

/* What mod_php puts in $_SERVER: Apache's environment for the request, its
 * common and CGI variables (ap_add_common_vars, ap_add_cgi_vars). */
void ta_rglobals_register_server(zval *arr)
{
    ta_request_globals *g = tl_live;
    if (!g) { php_import_environment_variables(arr); return; }
    const ta_request *rq = g->req;
    for (size_t i = 0; i < rq->n_env; i++) reg(rq->env[i].name, rq->env[i].value, arr);
    for (size_t i = 0; i < rq->n_headers; i++) reg_header(&rq->headers[i], arr);
    const char *path = getenv("PATH");
    reg("PATH", path ? path : "/usr/local/bin:/usr/bin:/bin", arr);
    reg("SERVER_SOFTWARE", rq->server_software, arr);
    reg("SERVER_NAME", rq->server_name, arr);
    reg("SERVER_ADDR", rq->local_addr, arr);
    reg_int("SERVER_PORT", rq->server_port, arr);
    reg("REMOTE_ADDR", rq->remote_addr, arr);
    reg("DOCUMENT_ROOT", rq->document_root, arr);
    reg("REQUEST_SCHEME", rq->scheme, arr);
    reg("CONTEXT_PREFIX", rq->context_prefix, arr);
    reg("CONTEXT_DOCUMENT_ROOT", rq->context_document_root, arr);
    reg("SERVER_ADMIN", rq->server_admin, arr);
    reg_int("REMOTE_PORT", rq->remote_port, arr);
    reg("REMOTE_USER", rq->remote_user, arr);
    reg("AUTH_TYPE", rq->auth_type, arr);
    reg("CONTENT_TYPE", SG(request_info).content_type, arr);
    const char *cl = req_header(rq, "Content-Length");
    reg("CONTENT_LENGTH", cl, arr);
    reg("GATEWAY_INTERFACE", "CGI/1.1", arr);
    reg("SERVER_PROTOCOL", rq->protocol, arr);
    reg("REQUEST_METHOD", rq->method, arr);
    reg("QUERY_STRING", rq->query ? rq->query : "", arr);
    reg("REQUEST_URI", rq->uri, arr);
    reg_script(g, arr);
    reg("PATH_INFO", rq->path_info, arr);
}

/* ---- the end ----------------------------------------------------------------- */

void ta_rglobals_run_shutdown_functions(void)
{
    HashTable *ht;
    /* By slot, as zend_hash_apply() does: the session module's entry has a
     * string key (an index walk up to nNextFreeElement, ZEND_LONG_MIN for
     * such a table, never ends), and callbacks may register more, which
     * run too, in order (nNumUsed is read again each round). */
    for (uint32_t i = 0; (ht = BG(user_shutdown_function_names)) && i < ht->nNumUsed; i++) {
        zval *zv = HT_IS_PACKED(ht) ? &ht->arPacked[i] : &ht->arData[i].val;
        if (Z_TYPE_P(zv) == IS_UNDEF) continue;
        php_shutdown_function_entry *e = Z_PTR_P(zv);
        zval rv;
        ZVAL_UNDEF(&rv);
        e->fci.retval = &rv;
        zend_call_function(&e->fci, &e->fci_cache);
        zval_ptr_dtor(&rv);
        if (EG(exception)) break;
    }
    php_free_shutdown_functions();
}

void ta_rglobals_release_superglobals(void)
{
    if (!tl_live) return;
    static const int track[TA_SG_N] = { TRACK_VARS_GET, TRACK_VARS_POST, TRACK_VARS_COOKIE, TRACK_VARS_SERVER,
                                        TRACK_VARS_FILES, -1, -1 };
    /* $_SERVER stays for the output handlers still to run (ob_gzhandler
     * reads the request's Accept-Encoding there); $_SESSION is the session
     * module's */
    for (int i = 0; i < TA_SG_SESSION; i++) {
        if (i == TA_SG_SERVER) continue;
        zval *slot = sg_str[i] ? zend_hash_find_known_hash(&EG(symbol_table), sg_str[i]) : NULL;
        if (slot && Z_TYPE_P(slot) == IS_ARRAY) {
            zval old;
            ZVAL_COPY_VALUE(&old, slot);
            ZVAL_EMPTY_ARRAY(slot);
            zval_ptr_dtor(&old);
        }
        if (track[i] >= 0 && Z_TYPE(PG(http_globals)[track[i]]) == IS_ARRAY) {
            zval old;
            ZVAL_COPY_VALUE(&old, &PG(http_globals)[track[i]]);
            ZVAL_EMPTY_ARRAY(&PG(http_globals)[track[i]]);
            zval_ptr_dtor(&old);
        }
    }
}

void ta_rglobals_close_session(void)
{
    if (tl_live) ta_request_session_end(&tl_live->session);
}

void ta_rglobals_end(ta_request_globals *g)
{
    if (!g->started) return;
    bool was_live = g->live;
    if (!was_live) ta_rglobals_swap(g);
    ta_request_session_end(&g->session);
    ta_request_zlib_end();
    url_state_free(&BG(url_adapt_output_ex));
    url_state_free(&BG(url_adapt_session_ex));
    if (SG(request_info).request_body) {
        php_stream_close(SG(request_info).request_body);
        SG(request_info).request_body = NULL;
    }
    if (SG(rfc1867_uploaded_files)) destroy_uploaded_files_hash();
    php_free_shutdown_functions();
    if (g->session.keep_config) ta_request_ini_adopt(&g->ini, "session.");   /* FrankenPHP's loop keeps them */
    if (!was_live) ta_rglobals_swap(g);
    bool was = ta_request_session_allow_user(true);
    ta_request_ini_end(&g->ini);    /* after: session.* refuse changes while one is active */
    ta_request_session_allow_user(was);
}

void ta_rglobals_free(ta_request_globals *g)
{
    if (!g->req) return;
    ZEND_ASSERT(!g->live);
    ta_request_ini_end(&g->ini);    /* not live: its values are already undone */
    ta_request_session_free(&g->session);
    ta_request_date_free(&g->date);
    ta_request_errors_free(&g->errors);
    ta_request_cwd_free(&g->cwd);
    ta_request_random_free(&g->random);
    for (int i = 0; i < NUM_TRACK_VARS; i++) zval_ptr_dtor(&g->pg[i]);
    for (int i = 0; i < TA_SG_N; i++) zval_ptr_dtor(&g->sym[i]);
    zval_ptr_dtor(&g->callback);
    zend_llist_destroy(&g->sh.headers);
    if (g->sh.mimetype) efree(g->sh.mimetype);
    if (g->sh.http_status_line) efree(g->sh.http_status_line);
    if (g->ri.content_type_dup) efree(g->ri.content_type_dup);
    if (g->ri.auth_user) efree(g->ri.auth_user);
    if (g->ri.auth_password) efree(g->ri.auth_password);
    if (g->ri.auth_digest) efree(g->ri.auth_digest);
    if (g->cookies) efree(g->cookies);
    g->req = NULL;
}
