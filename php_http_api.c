#include "php_http_api.h"
#include "php_async_api.h"
#include "multipart.h"
#include "ta_log.h"

#include <ext/standard/php_var.h>
#include <ext/standard/url.h>
#include <main/php_reentrancy.h>
#include <main/php_open_temporary_file.h>
/* PHP's documented UPLOAD_ERR_* values (the C names are private to rfc1867.c) */
enum { UPLOAD_ERR_OK = 0, UPLOAD_ERR_INI_SIZE = 1, UPLOAD_ERR_NO_FILE = 4, UPLOAD_ERR_CANT_WRITE = 7 };
#include <zend_smart_str.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static zend_class_entry *ce_server, *ce_request, *ce_response, *ce_upload;

static __thread const ta_http_host *tl_host;
static __thread bool tl_entering_loop;

void ta_http_bind(const ta_http_host *host) { tl_host = host; }
static zend_object_handlers h_server, h_request, h_response, h_upload;

/* `new` (and ReflectionClass::newInstance) ask this handler for the
 * constructor: refusing there is how the engine seals Closure. Objects of
 * these classes only come from the module, attached to their request. */
static zend_function *refuse_new(zend_object *obj)
{
    zend_throw_error(NULL, "Instantiation of class %s is not allowed", ZSTR_VAL(obj->ce->name));
    return NULL;
}

/* ---- object layouts ------------------------------------------------------ */

typedef struct {
    ta_exchange *ex;
    zval query, cookies, parsed, files;
    zend_object std;
} ta_request_obj;

typedef struct {
    ta_exchange *ex;
    ta_coro *coro;              /* the request coroutine while it runs */
    ta_coro *writer;            /* a coroutine waiting in write() */
    zend_long status;
    HashTable headers;          /* lower-case name => [name, value, value...] */
    bool headers_sent, ended;
    zend_object std;
} ta_response_obj;

typedef struct {
    zend_string *name, *type, *tmp;     /* all NULL until make_upload() */
    zend_long size, error;
    bool moved;
    zend_object std;
} ta_upload_obj;

#define OBJ_OF(type, o) ((type *) ((char *) (o) - XtOffsetOf(type, std)))
#define REQ_THIS() OBJ_OF(ta_request_obj, Z_OBJ_P(ZEND_THIS))

/* HttpServer is static-only; a create handler (plus final) makes
 * ReflectionClass::newInstanceWithoutConstructor() refuse it too. */
static zend_object *server_create(zend_class_entry *ce)
{
    zend_object *o = zend_objects_new(ce);
    object_properties_init(o, ce);
    o->handlers = &h_server;
    return o;
}

static zend_object *request_create(zend_class_entry *ce)
{
    ta_request_obj *o = zend_object_alloc(sizeof *o, ce);
    zend_object_std_init(&o->std, ce);
    object_properties_init(&o->std, ce);
    o->std.handlers = &h_request;
    ZVAL_UNDEF(&o->query); ZVAL_UNDEF(&o->cookies); ZVAL_UNDEF(&o->parsed); ZVAL_UNDEF(&o->files);
    return &o->std;
}

static void request_free(zend_object *obj)
{
    ta_request_obj *o = OBJ_OF(ta_request_obj, obj);
    zval_ptr_dtor(&o->query); zval_ptr_dtor(&o->cookies);
    zval_ptr_dtor(&o->parsed); zval_ptr_dtor(&o->files);
    if (o->ex) ta_exchange_release(o->ex);
    zend_object_std_dtor(obj);
}

static zend_object *response_create(zend_class_entry *ce)
{
    ta_response_obj *o = zend_object_alloc(sizeof *o, ce);
    zend_object_std_init(&o->std, ce);
    object_properties_init(&o->std, ce);
    o->std.handlers = &h_response;
    o->status = 200;
    zend_hash_init(&o->headers, 8, NULL, ZVAL_PTR_DTOR, 0);
    return &o->std;
}

static void response_free(zend_object *obj)
{
    ta_response_obj *o = OBJ_OF(ta_response_obj, obj);
    zend_hash_destroy(&o->headers);
    if (o->ex) ta_exchange_release(o->ex);
    zend_object_std_dtor(obj);
}

static zend_object *upload_create(zend_class_entry *ce)
{
    ta_upload_obj *o = zend_object_alloc(sizeof *o, ce);
    zend_object_std_init(&o->std, ce);
    object_properties_init(&o->std, ce);
    o->std.handlers = &h_upload;
    return &o->std;
}

static void upload_free(zend_object *obj)
{
    ta_upload_obj *o = OBJ_OF(ta_upload_obj, obj);
    /* Like PHP's own uploads: a file nobody moved is gone with the request. */
    if (o->tmp && ZSTR_LEN(o->tmp) && !o->moved) unlink(ZSTR_VAL(o->tmp));
    if (o->name) zend_string_release(o->name);
    if (o->type) zend_string_release(o->type);
    if (o->tmp) zend_string_release(o->tmp);
    zend_object_std_dtor(obj);
}

/* ---- header validation ---------------------------------------------------- */

static bool is_token(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
        if (!strchr("!#$%&'*+-.^_`|~", c) || c == 0) return false;
    }
    return true;
}

static bool check_header(zend_string *name, zend_string *value, uint32_t name_arg)
{
    if (!is_token(ZSTR_VAL(name), ZSTR_LEN(name))) {
        zend_argument_value_error(name_arg, "must be a valid HTTP header name");
        return false;
    }
    if (value) {
        const char *v = ZSTR_VAL(value);
        for (size_t i = 0; i < ZSTR_LEN(value); i++) {
            if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0') {
                zend_argument_value_error(name_arg + 1, "must not contain CR, LF or NUL characters");
                return false;
            }
        }
    }
    return true;
}

/* ---- the response path ----------------------------------------------------- */

static ta_kv *build_head(ta_response_obj *r, size_t *n_out)
{
    size_t n = 0, i = 0;
    bool has_ct = false;
    zval *entry;
    ZEND_HASH_FOREACH_VAL(&r->headers, entry) {
        n += zend_hash_num_elements(Z_ARRVAL_P(entry)) - 1;
    } ZEND_HASH_FOREACH_END();
    ta_kv *kv = calloc(n + 1, sizeof *kv);
    zend_string *lc;
    ZEND_HASH_FOREACH_STR_KEY_VAL(&r->headers, lc, entry) {
        if (zend_string_equals_literal(lc, "content-type")) has_ct = true;
        zval *name = zend_hash_index_find(Z_ARRVAL_P(entry), 0), *v;
        zend_ulong idx;
        ZEND_HASH_FOREACH_NUM_KEY_VAL(Z_ARRVAL_P(entry), idx, v) {
            if (idx == 0) continue;
            kv[i].name = ta_strdup(Z_STRVAL_P(name));
            kv[i].value = ta_strdup(Z_STRVAL_P(v));
            i++;
        } ZEND_HASH_FOREACH_END();
    } ZEND_HASH_FOREACH_END();
    if (!has_ct && r->status != 204 && r->status != 304) {
        /* PHP's own default_mimetype/default_charset */
        char *ct = sapi_get_default_content_type();
        kv[i].name = ta_strdup("Content-Type");
        kv[i].value = ta_strdup(ct);
        efree(ct);
        i++;
    }
    *n_out = i;
    return kv;
}

/* Hands data (and the head, first time) to Apache without waiting. */
static void response_post(ta_response_obj *r, const char *data, size_t len, int end)
{
    if (!r->ex) return;
    int status = 0;
    ta_kv *kv = NULL;
    size_t n = 0;
    if (!r->headers_sent) {
        kv = build_head(r, &n);
        status = (int) r->status;
        r->headers_sent = true;
    }
    ta_exchange_post(r->ex, status, kv, n, data, len, end);
    if (end) r->ended = true;
}

static void writer_cancel(ta_coro *co, void *data)
{
    (void) co;
    ta_response_obj *r = data;
    r->writer = NULL;
}

/* Backpressure: a write waits (its coroutine, not the thread) until Apache
 * has taken what was handed over before, so a response holds at most one
 * chunk in flight however slow the client is. */
static zend_result wait_drained(ta_response_obj *r)
{
    ta_coro *co = ta_coro_current();
    if (!co || !r->ex) return SUCCESS;
    /* request_done() wakes a writer when the response ends under it */
    while (!r->ended && ta_exchange_pending_wait(r->ex) > 0) {
        if (r->writer && r->writer != co) {
            zend_throw_error(NULL, "Another coroutine is already writing to this response");
            return FAILURE;
        }
        r->writer = co;
        zend_result rc = ta_coro_wait(writer_cancel, r);
        r->writer = NULL;
        if (rc == FAILURE) return FAILURE;
    }
    return SUCCESS;
}

size_t ta_http_echo(const char *str, size_t len)
{
    ta_sched *s = ta_sched_current;
    ta_coro *co = s ? s->current : NULL;
    ta_response_obj *r = co && co->scope ? OBJ_OF(ta_response_obj, co->scope) : NULL;
    if (r && !r->ended) {
        response_post(r, str, len, 0);
    } else if (len) {
        ta_log(TA_LOG_INFO, TA_LOGNO(10830) "PHP output outside a request: %.*s",
               (int) (len > 512 ? 512 : len), str);
    }
    return len;
}

/* ---- the request coroutine ------------------------------------------------- */

static void log_uncaught(zend_object *ex, const char *script)
{
    zend_class_entry *base = zend_get_exception_base(ex);
    zval rv1, rv2, rv3;
    zval *msg = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_MESSAGE), 1, &rv1);
    zval *file = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_FILE), 1, &rv2);
    zval *line = zend_read_property_ex(base, ex, ZSTR_KNOWN(ZEND_STR_LINE), 1, &rv3);
    ta_log(TA_LOG_ERR, TA_LOGNO(10831) "Uncaught %s: %s in %s:" ZEND_LONG_FMT " (request handler of %s)",
           ZSTR_VAL(ex->ce->name),
           Z_TYPE_P(msg) == IS_STRING ? Z_STRVAL_P(msg) : "",
           Z_TYPE_P(file) == IS_STRING ? Z_STRVAL_P(file) : "?",
           Z_TYPE_P(line) == IS_LONG ? Z_LVAL_P(line) : 0, script);
}

static void request_done(ta_coro *co, zend_object *uncaught)
{
    zend_object *robj = co->scope;
    ta_response_obj *r = OBJ_OF(ta_response_obj, robj);
    ta_exchange *ex = r->ex;
    if (co->fatal || co->no_stack) {
        /* A fatal error (PHP logged it) or no fiber stack (out of memory
         * mappings: the server is overloaded, so 503). Frames of a fatal
         * coroutine are never freed: let go of the exchange here so its
         * body and headers do not stay with them. */
        if (co->no_stack) log_uncaught(uncaught, tl_host->script);
        if (ex && !r->ended) ta_exchange_fail(ex, co->no_stack ? 503 : 500);
        r->headers_sent = r->ended = true;
        if (co->argc >= 1 && Z_TYPE(co->args[0]) == IS_OBJECT && Z_OBJCE(co->args[0]) == ce_request) {
            ta_request_obj *req = OBJ_OF(ta_request_obj, Z_OBJ(co->args[0]));
            if (req->ex) { ta_exchange_release(req->ex); req->ex = NULL; }
        }
        r->coro = NULL;
        r->ex = NULL;
        if (ex) {
            ex->php_ctx = NULL;
            tl_host->request_done(tl_host->ctx, ex);
            ta_exchange_release(ex);
        }
        return;
    }
    if (uncaught) {
        /* Cancelled from outside (client gone, server stopping): not the
         * script's error; the client, if still there, gets 503. */
        bool cancelled = co->cancelled && instanceof_function(uncaught->ce, ta_ce_cancellation_error);
        if (!cancelled) log_uncaught(uncaught, tl_host->script);
        if (!r->ended && ex) {
            ta_exchange_fail(ex, cancelled ? 503 : 500);
            r->headers_sent = r->ended = true;
        }
    } else if (!r->ended) {
        response_post(r, NULL, 0, 1);
    }
    /* A coroutine of this request still waiting in write() would never hear
     * from Apache again (the exchange leaves the thread): let it see the end. */
    if (r->writer) {
        ta_coro *w = r->writer;
        r->writer = NULL;
        ta_coro_wake(w);
    }
    r->coro = NULL;
    if (ex) tl_host->request_done(tl_host->ctx, ex);
}

int ta_http_start_request(ta_exchange *ex, zval *callback)
{
    zval args[2];
    object_init_ex(&args[0], ce_request);
    object_init_ex(&args[1], ce_response);
    ta_request_obj *req = OBJ_OF(ta_request_obj, Z_OBJ(args[0]));
    ta_response_obj *res = OBJ_OF(ta_response_obj, Z_OBJ(args[1]));
    ta_exchange_ref(ex);
    req->ex = ex;
    ta_exchange_ref(ex);
    res->ex = ex;
    ta_coro *co = ta_sched_spawn(ta_sched_current, callback, 2, args, Z_OBJ(args[1]), request_done);
    if (!co) {
        if (EG(exception)) zend_clear_exception();
        zval_ptr_dtor(&args[0]);
        zval_ptr_dtor(&args[1]);
        return -1;
    }
    res->coro = co;
    ex->php_ctx = res;
    zval_ptr_dtor(&args[0]);
    zval_ptr_dtor(&args[1]);
    return 0;
}

void ta_http_exchange_event(ta_exchange *ex)
{
    ta_response_obj *r = ex->php_ctx;
    if (ta_exchange_is_aborted(ex)) {
        if (r->coro) ta_coro_cancel(r->coro, NULL, "Client disconnected");
        if (r->writer && r->writer != r->coro) ta_coro_wake(r->writer);
    } else if (r->writer) {
        ta_coro *w = r->writer;
        r->writer = NULL;
        ta_coro_wake(w);
    }
}

/* ---- HttpServer ------------------------------------------------------------ */

ZEND_METHOD(FrankenPHP_HttpServer, onRequest)
{
    zval *cb;
    zend_fcall_info fci;
    zend_fcall_info_cache fcc;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_FUNC(fci, fcc)
    ZEND_PARSE_PARAMETERS_END();
    cb = &fci.function_name;
    if (!tl_host) {
        zend_throw_error(NULL, "HttpServer::onRequest() can only be called from a TrueAsync worker script");
        RETURN_THROWS();
    }
    zval_ptr_dtor(tl_host->handler);
    ZVAL_COPY(tl_host->handler, cb);
    RETURN_TRUE;
}

/* The thread's event loop runs inside this (private) method's frame, so an
 * exception that escapes a coroutine comes back to the scheduler as a
 * pending exception instead of a top-level "uncaught" fatal error. */
ZEND_METHOD(FrankenPHP_HttpServer, loop)
{
    ZEND_PARSE_PARAMETERS_NONE();
    if (!tl_host || !tl_entering_loop) {
        zend_throw_error(NULL, "HttpServer::loop() is internal");
        RETURN_THROWS();
    }
    tl_entering_loop = false;
    tl_host->serve(tl_host->ctx);
}

void ta_http_run_loop(void)
{
    zend_function *fn = zend_hash_str_find_ptr(&ce_server->function_table, ZEND_STRL("loop"));
    zval rv;
    tl_entering_loop = true;
    zend_call_known_function(fn, NULL, ce_server, &rv, 0, NULL, NULL);
    zval_ptr_dtor(&rv);
}

/* ---- Request --------------------------------------------------------------- */

static ta_request *req_data(zval *this_zv)
{
    ta_request_obj *o = OBJ_OF(ta_request_obj, Z_OBJ_P(this_zv));
    if (!o->ex) {
        zend_throw_error(NULL, "This FrankenPHP\\Request is not attached to an HTTP request");
        return NULL;
    }
    return &o->ex->req;
}

#define REQ_OR_THROW(rq) ta_request *rq = req_data(ZEND_THIS); if (!rq) RETURN_THROWS()

static void ret_str(zval *return_value, const char *s) { if (s) RETURN_STRING(s); RETURN_EMPTY_STRING(); }

ZEND_METHOD(FrankenPHP_Request, getMethod) { ZEND_PARSE_PARAMETERS_NONE(); REQ_OR_THROW(rq); ret_str(return_value, rq->method); }
ZEND_METHOD(FrankenPHP_Request, getUri) { ZEND_PARSE_PARAMETERS_NONE(); REQ_OR_THROW(rq); ret_str(return_value, rq->uri); }
ZEND_METHOD(FrankenPHP_Request, getHost) { ZEND_PARSE_PARAMETERS_NONE(); REQ_OR_THROW(rq); ret_str(return_value, rq->host); }
ZEND_METHOD(FrankenPHP_Request, getRemoteAddr) { ZEND_PARSE_PARAMETERS_NONE(); REQ_OR_THROW(rq); ret_str(return_value, rq->remote_addr); }
ZEND_METHOD(FrankenPHP_Request, getScheme) { ZEND_PARSE_PARAMETERS_NONE(); REQ_OR_THROW(rq); ret_str(return_value, rq->scheme); }

ZEND_METHOD(FrankenPHP_Request, getProtocolVersion)
{
    ZEND_PARSE_PARAMETERS_NONE();
    REQ_OR_THROW(rq);
    const char *p = rq->protocol ? rq->protocol : "HTTP/1.1";
    if (strncmp(p, "HTTP/", 5) == 0) p += 5;
    if (strcmp(p, "2.0") == 0) p = "2";
    else if (strcmp(p, "3.0") == 0) p = "3";
    RETURN_STRING(p);
}

static zend_string *header_joined(ta_request *rq, const char *name, size_t len)
{
    smart_str s = {0};
    for (size_t i = 0; i < rq->n_headers; i++) {
        if (strlen(rq->headers[i].name) == len && strncasecmp(rq->headers[i].name, name, len) == 0) {
            if (s.s) smart_str_appendl(&s, ", ", 2);
            smart_str_appends(&s, rq->headers[i].value);
            if (!s.s) smart_str_appendl(&s, "", 0);
        }
    }
    if (!s.s) return NULL;
    smart_str_0(&s);
    return s.s;
}

ZEND_METHOD(FrankenPHP_Request, getHeader)
{
    zend_string *name;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_STR(name)
    ZEND_PARSE_PARAMETERS_END();
    REQ_OR_THROW(rq);
    zend_string *v = header_joined(rq, ZSTR_VAL(name), ZSTR_LEN(name));
    if (!v) RETURN_NULL();
    RETURN_STR(v);
}

ZEND_METHOD(FrankenPHP_Request, getHeaders)
{
    ZEND_PARSE_PARAMETERS_NONE();
    REQ_OR_THROW(rq);
    array_init_size(return_value, (uint32_t) rq->n_headers);
    for (size_t i = 0; i < rq->n_headers; i++) {
        const char *n = rq->headers[i].name;
        if (zend_hash_str_exists(Z_ARRVAL_P(return_value), n, strlen(n))) continue;
        zend_string *v = header_joined(rq, n, strlen(n));
        add_assoc_str_ex(return_value, n, strlen(n), v ? v : ZSTR_EMPTY_ALLOC());
    }
}

ZEND_METHOD(FrankenPHP_Request, getBody)
{
    ZEND_PARSE_PARAMETERS_NONE();
    REQ_OR_THROW(rq);
    if (!rq->body_len) RETURN_EMPTY_STRING();
    RETURN_STRINGL(rq->body, rq->body_len);
}

ZEND_METHOD(FrankenPHP_Request, getQueryParams)
{
    ZEND_PARSE_PARAMETERS_NONE();
    REQ_OR_THROW(rq);
    ta_request_obj *o = REQ_THIS();
    if (Z_TYPE(o->query) == IS_UNDEF) {
        array_init(&o->query);
        const char *q = rq->uri ? strchr(rq->uri, '?') : NULL;
        if (q && q[1]) sapi_module.treat_data(PARSE_STRING, estrdup(q + 1), &o->query);
    }
    RETURN_COPY(&o->query);
}

/* Like PHP's $_COOKIE: pairs split on ';', values URL-decoded, the first
 * of two cookies with the same name wins. */
static void parse_cookies(const char *header, zval *arr)
{
    char *copy = estrdup(header), *save = NULL;
    for (char *pair = php_strtok_r(copy, ";", &save); pair; pair = php_strtok_r(NULL, ";", &save)) {
        while (*pair == ' ' || *pair == '\t') pair++;
        char *eq = strchr(pair, '=');
        if (!eq || eq == pair) continue;
        *eq = '\0';
        char *name = pair, *value = eq + 1;
        if (zend_symtable_str_exists(Z_ARRVAL_P(arr), name, strlen(name))) continue;
        size_t vlen = php_url_decode(value, strlen(value));
        php_register_variable_safe(name, value, vlen, arr);
    }
    efree(copy);
}

ZEND_METHOD(FrankenPHP_Request, getCookies)
{
    ZEND_PARSE_PARAMETERS_NONE();
    REQ_OR_THROW(rq);
    ta_request_obj *o = REQ_THIS();
    if (Z_TYPE(o->cookies) == IS_UNDEF) {
        array_init(&o->cookies);
        zend_string *c = header_joined(rq, "Cookie", 6);
        if (c) {
            parse_cookies(ZSTR_VAL(c), &o->cookies);
            zend_string_release(c);
        }
    }
    RETURN_COPY(&o->cookies);
}

static bool content_type_is(ta_request *rq, const char *type)
{
    zend_string *ct = header_joined(rq, "Content-Type", 12);
    if (!ct) return false;
    size_t n = strlen(type);
    bool yes = ZSTR_LEN(ct) >= n && strncasecmp(ZSTR_VAL(ct), type, n) == 0
        && (ZSTR_LEN(ct) == n || ZSTR_VAL(ct)[n] == ';' || ZSTR_VAL(ct)[n] == ' ');
    zend_string_release(ct);
    return yes;
}

static zend_object *make_upload(const char *filename, const char *type, zend_string *tmp,
                                zend_long size, zend_long error)
{
    zval zv;
    object_init_ex(&zv, ce_upload);
    ta_upload_obj *u = OBJ_OF(ta_upload_obj, Z_OBJ(zv));
    /* Browsers may send a path; PHP keeps only the last component. */
    const char *base = filename;
    for (const char *p = filename; *p; p++) if (*p == '/' || *p == '\\') base = p + 1;
    u->name = zend_string_init(base, strlen(base), 0);
    u->type = zend_string_init(type ? type : "", type ? strlen(type) : 0, 0);
    u->tmp = tmp ? tmp : ZSTR_EMPTY_ALLOC();
    u->size = size;
    u->error = error;
    return Z_OBJ(zv);
}

static zend_string *store_upload(const char *data, size_t len)
{
    zend_string *path = NULL;
    int fd = php_open_temporary_fd_ex(PG(upload_tmp_dir), "php", &path, PHP_TMP_FILE_OPEN_BASEDIR_CHECK_ON_FALLBACK);
    if (fd < 0) return NULL;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) { if (errno == EINTR) continue; break; }
        off += (size_t) w;
    }
    close(fd);
    if (off < len) { unlink(ZSTR_VAL(path)); zend_string_release(path); return NULL; }
    return path;
}

static void parse_body(ta_request_obj *o, ta_request *rq)
{
    if (Z_TYPE(o->parsed) != IS_UNDEF) return;
    array_init(&o->files);
    if (content_type_is(rq, "application/x-www-form-urlencoded")) {
        array_init(&o->parsed);
        if (rq->body_len)
            sapi_module.treat_data(PARSE_STRING, estrndup(rq->body, rq->body_len), &o->parsed);
        return;
    }
    if (!content_type_is(rq, "multipart/form-data")) {
        ZVAL_NULL(&o->parsed);
        return;
    }
    array_init(&o->parsed);
    zend_string *ct = header_joined(rq, "Content-Type", 12);
    char boundary[80];
    ta_mp_part *parts = NULL;
    size_t n = 0;
    int rc = TA_MP_EBOUNDARY;
    if (ta_multipart_boundary(ZSTR_VAL(ct), boundary, sizeof boundary) > 0)
        rc = ta_multipart_parse(rq->body ? rq->body : "", rq->body_len, boundary,
                                (size_t) PG(max_input_vars) + (size_t) INI_INT("max_file_uploads"), &parts, &n);
    zend_string_release(ct);
    if (rc != TA_MP_OK) {
        php_error_docref(NULL, E_WARNING, "Cannot parse multipart/form-data body: %s", ta_multipart_strerror(rc));
        return;
    }
    zend_long files = 0;
    for (size_t i = 0; i < n; i++) {
        ta_mp_part *p = &parts[i];
        if (!p->filename) {
            php_register_variable_safe(p->name, p->data, p->len, &o->parsed);
            continue;
        }
        if (!PG(file_uploads)) continue;
        zend_long err = UPLOAD_ERR_OK;
        zend_string *tmp = NULL;
        if (!*p->filename && p->len == 0) err = UPLOAD_ERR_NO_FILE;
        else if (++files > INI_INT("max_file_uploads")) continue;
        else if (PG(upload_max_filesize) > 0 && (zend_long) p->len > PG(upload_max_filesize)) err = UPLOAD_ERR_INI_SIZE;
        else if (!(tmp = store_upload(p->data, p->len))) err = UPLOAD_ERR_CANT_WRITE;
        zval zv;
        ZVAL_OBJ(&zv, make_upload(p->filename, p->content_type, tmp,
                                  err == UPLOAD_ERR_OK ? (zend_long) p->len : 0, err));
        php_register_variable_ex(p->name, &zv, &o->files);
    }
    ta_multipart_free(parts, n);
}

ZEND_METHOD(FrankenPHP_Request, getParsedBody)
{
    ZEND_PARSE_PARAMETERS_NONE();
    REQ_OR_THROW(rq);
    ta_request_obj *o = REQ_THIS();
    parse_body(o, rq);
    RETURN_COPY(&o->parsed);
}

ZEND_METHOD(FrankenPHP_Request, getUploadedFiles)
{
    ZEND_PARSE_PARAMETERS_NONE();
    REQ_OR_THROW(rq);
    ta_request_obj *o = REQ_THIS();
    parse_body(o, rq);
    RETURN_COPY(&o->files);
}

/* ---- Response -------------------------------------------------------------- */

/* A Response userland got without the module (PDO's FETCH_CLASSTYPE makes
 * objects without any constructor) belongs to no request. */
static ta_response_obj *res_data(zval *this_zv)
{
    ta_response_obj *r = OBJ_OF(ta_response_obj, Z_OBJ_P(this_zv));
    if (!r->ex) {
        zend_throw_error(NULL, "This FrankenPHP\\Response is not attached to an HTTP request");
        return NULL;
    }
    return r;
}

#define RES_OR_THROW(r) ta_response_obj *r = res_data(ZEND_THIS); if (!r) RETURN_THROWS()

static bool head_open(ta_response_obj *r)
{
    if (r->headers_sent) {
        zend_throw_error(NULL, "Cannot modify the response: headers already sent");
        return false;
    }
    return true;
}

ZEND_METHOD(FrankenPHP_Response, setStatus)
{
    zend_long code;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(code)
    ZEND_PARSE_PARAMETERS_END();
    if (code < 100 || code > 599) {
        zend_argument_value_error(1, "must be between 100 and 599");
        RETURN_THROWS();
    }
    RES_OR_THROW(r);
    if (!head_open(r)) RETURN_THROWS();
    r->status = code;
}

ZEND_METHOD(FrankenPHP_Response, getStatus) { ZEND_PARSE_PARAMETERS_NONE(); RES_OR_THROW(r); RETURN_LONG(r->status); }

static void header_put(ta_response_obj *r, zend_string *name, zend_string *value, bool replace)
{
    zend_string *lc = zend_string_tolower(name);
    zval *entry = zend_hash_find(&r->headers, lc);
    if (!entry || replace) {
        zval arr;
        array_init(&arr);
        add_next_index_str(&arr, zend_string_copy(name));
        entry = zend_hash_update(&r->headers, lc, &arr);
    }
    add_next_index_str(entry, zend_string_copy(value));
    zend_string_release(lc);
}

static void set_or_add(INTERNAL_FUNCTION_PARAMETERS, bool replace)
{
    zend_string *name, *value;
    ZEND_PARSE_PARAMETERS_START(2, 2)
        Z_PARAM_STR(name)
        Z_PARAM_STR(value)
    ZEND_PARSE_PARAMETERS_END();
    if (!check_header(name, value, 1)) RETURN_THROWS();
    RES_OR_THROW(r);
    if (!head_open(r)) RETURN_THROWS();
    header_put(r, name, value, replace);
}

ZEND_METHOD(FrankenPHP_Response, setHeader) { set_or_add(INTERNAL_FUNCTION_PARAM_PASSTHRU, true); }
ZEND_METHOD(FrankenPHP_Response, addHeader) { set_or_add(INTERNAL_FUNCTION_PARAM_PASSTHRU, false); }

ZEND_METHOD(FrankenPHP_Response, removeHeader)
{
    zend_string *name;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_STR(name)
    ZEND_PARSE_PARAMETERS_END();
    RES_OR_THROW(r);
    if (!head_open(r)) RETURN_THROWS();
    zend_string *lc = zend_string_tolower(name);
    zend_hash_del(&r->headers, lc);
    zend_string_release(lc);
}

ZEND_METHOD(FrankenPHP_Response, getHeader)
{
    zend_string *name;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_STR(name)
    ZEND_PARSE_PARAMETERS_END();
    RES_OR_THROW(r);
    zend_string *lc = zend_string_tolower(name);
    zval *entry = zend_hash_find(&r->headers, lc);
    zend_string_release(lc);
    if (!entry) RETURN_NULL();
    smart_str s = {0};
    zval *v;
    zend_ulong idx;
    ZEND_HASH_FOREACH_NUM_KEY_VAL(Z_ARRVAL_P(entry), idx, v) {
        if (idx == 0) continue;
        if (s.s) smart_str_appendl(&s, ", ", 2);
        smart_str_append(&s, Z_STR_P(v));
    } ZEND_HASH_FOREACH_END();
    smart_str_0(&s);
    if (!s.s) RETURN_EMPTY_STRING();
    RETURN_STR(s.s);
}

ZEND_METHOD(FrankenPHP_Response, getHeaders)
{
    ZEND_PARSE_PARAMETERS_NONE();
    RES_OR_THROW(r);
    array_init(return_value);
    zval *entry;
    ZEND_HASH_FOREACH_VAL(&r->headers, entry) {
        zval list, *v;
        zend_ulong idx;
        array_init(&list);
        ZEND_HASH_FOREACH_NUM_KEY_VAL(Z_ARRVAL_P(entry), idx, v) {
            if (idx == 0) continue;
            add_next_index_str(&list, zend_string_copy(Z_STR_P(v)));
        } ZEND_HASH_FOREACH_END();
        zval *name = zend_hash_index_find(Z_ARRVAL_P(entry), 0);
        zend_hash_update(Z_ARRVAL_P(return_value), Z_STR_P(name), &list);
    } ZEND_HASH_FOREACH_END();
}

ZEND_METHOD(FrankenPHP_Response, isHeadersSent) { ZEND_PARSE_PARAMETERS_NONE(); RES_OR_THROW(r); RETURN_BOOL(r->headers_sent); }

ZEND_METHOD(FrankenPHP_Response, write)
{
    zend_string *data;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_STR(data)
    ZEND_PARSE_PARAMETERS_END();
    RES_OR_THROW(r);
    if (r->ended) {
        zend_throw_error(NULL, "Cannot write: the response has already ended");
        RETURN_THROWS();
    }
    if (wait_drained(r) == FAILURE) RETURN_THROWS();
    if (r->ended) {
        zend_throw_error(NULL, "Cannot write: the response has already ended");
        RETURN_THROWS();
    }
    if (ZSTR_LEN(data) || !r->headers_sent) response_post(r, ZSTR_VAL(data), ZSTR_LEN(data), 0);
}

ZEND_METHOD(FrankenPHP_Response, end)
{
    ZEND_PARSE_PARAMETERS_NONE();
    RES_OR_THROW(r);
    if (r->ended) return;
    response_post(r, NULL, 0, 1);
}

ZEND_METHOD(FrankenPHP_Response, redirect)
{
    zend_string *url;
    zend_long code = 302;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_STR(url)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(code)
    ZEND_PARSE_PARAMETERS_END();
    if (code < 300 || code > 399) {
        zend_argument_value_error(2, "must be a redirect status code (300 to 399)");
        RETURN_THROWS();
    }
    for (size_t i = 0; i < ZSTR_LEN(url); i++) {
        char c = ZSTR_VAL(url)[i];
        if (c == '\r' || c == '\n' || c == '\0') {
            zend_argument_value_error(1, "must not contain CR, LF or NUL characters");
            RETURN_THROWS();
        }
    }
    RES_OR_THROW(r);
    if (!head_open(r)) RETURN_THROWS();
    zend_string *loc = zend_string_init("Location", 8, 0);
    header_put(r, loc, url, true);
    zend_string_release(loc);
    r->status = code;
    response_post(r, NULL, 0, 1);
}

/* ---- UploadedFile ---------------------------------------------------------- */

/* An UploadedFile not made by make_upload() has no strings to return. */
static ta_upload_obj *upl_data(zval *this_zv)
{
    ta_upload_obj *u = OBJ_OF(ta_upload_obj, Z_OBJ_P(this_zv));
    if (!u->tmp) {
        zend_throw_error(NULL, "This FrankenPHP\\UploadedFile is not attached to an uploaded file");
        return NULL;
    }
    return u;
}

#define UPL_OR_THROW(u) ta_upload_obj *u = upl_data(ZEND_THIS); if (!u) RETURN_THROWS()

ZEND_METHOD(FrankenPHP_UploadedFile, getName) { ZEND_PARSE_PARAMETERS_NONE(); UPL_OR_THROW(u); RETURN_STR_COPY(u->name); }
ZEND_METHOD(FrankenPHP_UploadedFile, getType) { ZEND_PARSE_PARAMETERS_NONE(); UPL_OR_THROW(u); RETURN_STR_COPY(u->type); }
ZEND_METHOD(FrankenPHP_UploadedFile, getSize) { ZEND_PARSE_PARAMETERS_NONE(); UPL_OR_THROW(u); RETURN_LONG(u->size); }
ZEND_METHOD(FrankenPHP_UploadedFile, getTmpName) { ZEND_PARSE_PARAMETERS_NONE(); UPL_OR_THROW(u); RETURN_STR_COPY(u->tmp); }
ZEND_METHOD(FrankenPHP_UploadedFile, getError) { ZEND_PARSE_PARAMETERS_NONE(); UPL_OR_THROW(u); RETURN_LONG(u->error); }

static bool copy_file(const char *from, const char *to)
{
    php_stream *in = php_stream_open_wrapper((char *) from, "rb", REPORT_ERRORS, NULL);
    if (!in) return false;
    php_stream *out = php_stream_open_wrapper((char *) to, "wb", REPORT_ERRORS, NULL);
    if (!out) { php_stream_close(in); return false; }
    size_t copied;
    bool ok = php_stream_copy_to_stream_ex(in, out, PHP_STREAM_COPY_ALL, &copied) == SUCCESS;
    php_stream_close(in);
    php_stream_close(out);
    return ok;
}

ZEND_METHOD(FrankenPHP_UploadedFile, moveTo)
{
    zend_string *path;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH_STR(path)
    ZEND_PARSE_PARAMETERS_END();
    UPL_OR_THROW(u);
    if (u->error != UPLOAD_ERR_OK || u->moved || !ZSTR_LEN(u->tmp)) RETURN_FALSE;
    if (php_check_open_basedir(ZSTR_VAL(path))) RETURN_FALSE;
    if (rename(ZSTR_VAL(u->tmp), ZSTR_VAL(path)) != 0) {
        if (errno != EXDEV || !copy_file(ZSTR_VAL(u->tmp), ZSTR_VAL(path))) {
            php_error_docref(NULL, E_WARNING, "Unable to move \"%s\" to \"%s\": %s",
                             ZSTR_VAL(u->tmp), ZSTR_VAL(path), strerror(errno));
            RETURN_FALSE;
        }
        unlink(ZSTR_VAL(u->tmp));
    }
    u->moved = true;
    RETURN_TRUE;
}

/* ---- arginfo and registration ---------------------------------------------- */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_onrequest, 0, 1, _IS_BOOL, 0)
    ZEND_ARG_TYPE_INFO(0, callback, IS_CALLABLE, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_string, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_array, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_nullable_array, 0, 0, IS_ARRAY, 1)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_int, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_bool, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_void, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_get_header, 0, 1, IS_STRING, 1)
    ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_set_status, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, code, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_header_nv, 0, 2, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
    ZEND_ARG_TYPE_INFO(0, value, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_header_n, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, name, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_redirect, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, url, IS_STRING, 0)
    ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, code, IS_LONG, 0, "302")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_write, 0, 1, IS_VOID, 0)
    ZEND_ARG_TYPE_INFO(0, data, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(ai_move_to, 0, 1, _IS_BOOL, 0)
    ZEND_ARG_TYPE_INFO(0, path, IS_STRING, 0)
ZEND_END_ARG_INFO()

#define M(cls, name, ai) ZEND_ME(FrankenPHP_##cls, name, ai, ZEND_ACC_PUBLIC)

static const zend_function_entry server_methods[] = {
    ZEND_ME(FrankenPHP_HttpServer, onRequest, ai_onrequest, ZEND_ACC_PUBLIC | ZEND_ACC_STATIC)
    ZEND_ME(FrankenPHP_HttpServer, loop, ai_void, ZEND_ACC_PRIVATE | ZEND_ACC_STATIC)
    ZEND_FE_END
};

static const zend_function_entry request_methods[] = {
    M(Request, getMethod, ai_string) M(Request, getUri, ai_string) M(Request, getHost, ai_string)
    M(Request, getHeader, ai_get_header) M(Request, getHeaders, ai_array)
    M(Request, getRemoteAddr, ai_string) M(Request, getProtocolVersion, ai_string)
    M(Request, getScheme, ai_string) M(Request, getQueryParams, ai_array)
    M(Request, getCookies, ai_array) M(Request, getBody, ai_string)
    M(Request, getParsedBody, ai_nullable_array) M(Request, getUploadedFiles, ai_array)
    ZEND_FE_END
};

static const zend_function_entry response_methods[] = {
    M(Response, setStatus, ai_set_status) M(Response, getStatus, ai_int)
    M(Response, setHeader, ai_header_nv) M(Response, addHeader, ai_header_nv)
    M(Response, removeHeader, ai_header_n) M(Response, getHeader, ai_get_header)
    M(Response, getHeaders, ai_array) M(Response, isHeadersSent, ai_bool)
    M(Response, redirect, ai_redirect) M(Response, write, ai_write) M(Response, end, ai_void)
    ZEND_FE_END
};

static const zend_function_entry upload_methods[] = {
    M(UploadedFile, getName, ai_string) M(UploadedFile, getType, ai_string)
    M(UploadedFile, getSize, ai_int) M(UploadedFile, getTmpName, ai_string)
    M(UploadedFile, getError, ai_int) M(UploadedFile, moveTo, ai_move_to)
    ZEND_FE_END
};

static zend_class_entry *register_final(const char *name, const zend_function_entry *methods,
                                        zend_object *(*create)(zend_class_entry *),
                                        zend_object_handlers *h, size_t offset,
                                        void (*free_obj)(zend_object *))
{
    zend_class_entry ce, *out;
    INIT_CLASS_ENTRY_EX(ce, name, strlen(name), methods);
    out = zend_register_internal_class(&ce);
    out->ce_flags |= ZEND_ACC_FINAL | ZEND_ACC_NO_DYNAMIC_PROPERTIES | ZEND_ACC_NOT_SERIALIZABLE;
    out->create_object = create;
    memcpy(h, zend_get_std_object_handlers(), sizeof *h);
    h->offset = (int) offset;
    if (free_obj) h->free_obj = free_obj;
    h->clone_obj = NULL;
    h->get_constructor = refuse_new;
    return out;
}

void ta_http_api_register(void)
{
    ce_server = register_final("FrankenPHP\\HttpServer", server_methods, server_create, &h_server, 0, NULL);
    ce_request = register_final("FrankenPHP\\Request", request_methods, request_create, &h_request,
                                XtOffsetOf(ta_request_obj, std), request_free);
    ce_response = register_final("FrankenPHP\\Response", response_methods, response_create, &h_response,
                                 XtOffsetOf(ta_response_obj, std), response_free);
    ce_upload = register_final("FrankenPHP\\UploadedFile", upload_methods, upload_create, &h_upload,
                               XtOffsetOf(ta_upload_obj, std), upload_free);
}
