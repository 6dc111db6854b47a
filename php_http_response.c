/* FrankenPHP\Response: status and headers until the head goes out, then
 * the body, streamed to Apache chunk by chunk with backpressure. */
#include "php_http_objects.h"
#include "php_http_api.h"
#include "ta_log.h"
#include "php_async_scope.h"

#include <zend_smart_str.h>
#include <main/php_output.h>
#include <sys/stat.h>
#include "stubs/php_http_response_arginfo.h"

zend_class_entry *ta_ce_response;
static zend_object_handlers h_response;

static zend_object *response_create(zend_class_entry *ce)
{
    ta_response_obj *o = ta_object_new(sizeof *o, ce, &h_response);
    zend_hash_init(&o->headers, 8, NULL, ZVAL_PTR_DTOR, 0);
    return &o->std;
}

static void response_free(zend_object *obj)
{
    ta_response_obj *o = OBJ_OF(ta_response_obj, obj);
    ta_http_scope_flush_if(o);
    ta_output_destroy(&o->out);
    if (o->g) { ta_rglobals_free(o->g); efree(o->g); }
    zend_hash_destroy(&o->headers);
    if (o->ex) ta_exchange_release(o->ex);
    if (o->ascope) ta_scope_release_request(o->ascope);
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

ta_kv *ta_response_head_kv(ta_response_obj *r, size_t *n_out, bool final)
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
    int status = *ta_rglobals_status(r->g);
    if (final && !has_ct && status != 204 && status != 304) {
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

/* header("HTTP/1.1 399 Choose Your Own Adventure"): the line as PHP keeps
 * it (dropped by PHP when the code changed since), for Apache to send. */
static void set_status_line(ta_response_obj *r, int status)
{
    const char *line = r->g ? ta_rglobals_status_line(r->g) : NULL;
    r->ex->status_line[0] = '\0';
    if (!line) return;
    const char *sp = strchr(line, ' ');
    if (!sp || atoi(sp + 1) != status) return;
    snprintf(r->ex->status_line, sizeof r->ex->status_line, "%s", sp + 1);
}

/* Hands data (and the head, first time) to Apache without waiting. */
void ta_response_post(ta_response_obj *r, const char *data, size_t len, int end)
{
    if (!r->ex) return;
    int status = 0;
    ta_kv *kv = NULL;
    size_t n = 0;
    /* PHP's own send: the default Content-Type, the header_register_callback()
     * callback (which may itself write), headers_sent() from now on. */
    if (!r->headers_sent && (r->g && r->g->live) && !SG(headers_sent)) sapi_send_headers();
    if (!r->headers_sent) {
        *ta_rglobals_headers_sent(r->g) = 1;
        kv = ta_response_head_kv(r, &n, true);
        status = *ta_rglobals_status(r->g);
        set_status_line(r, status);
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
zend_result ta_response_wait_drained(ta_response_obj *r)
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
    *ta_rglobals_status(r->g) = (int) code;
}

ZEND_METHOD(FrankenPHP_Response, getStatus) { ZEND_PARSE_PARAMETERS_NONE(); RES_OR_THROW(r); RETURN_LONG(*ta_rglobals_status(r->g)); }

void ta_response_header_put(ta_response_obj *r, zend_string *name, zend_string *value, bool replace)
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
    ta_response_header_put(r, name, value, replace);
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
    ta_response_header_del(r, ZSTR_VAL(name), ZSTR_LEN(name));
}

void ta_response_header_del(ta_response_obj *r, const char *name, size_t len)
{
    zend_string *lc = zend_string_init(name, len, 0);
    zend_str_tolower(ZSTR_VAL(lc), len);
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
    RETURN_STR(ta_response_header_joined(entry));
}

zend_string *ta_response_header_joined(zval *entry)
{
    smart_str s = {0};
    zval *v;
    zend_ulong idx;
    ZEND_HASH_FOREACH_NUM_KEY_VAL(Z_ARRVAL_P(entry), idx, v) {
        if (idx == 0) continue;
        if (s.s) smart_str_appendl(&s, ", ", 2);
        smart_str_append(&s, Z_STR_P(v));
    } ZEND_HASH_FOREACH_END();
    smart_str_0(&s);
    return s.s ? s.s : ZSTR_EMPTY_ALLOC();
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

ZEND_METHOD(FrankenPHP_Response, isHeadersSent) { ZEND_PARSE_PARAMETERS_NONE(); RES_OR_THROW(r); RETURN_BOOL(r->headers_sent || *ta_rglobals_headers_sent(r->g)); }

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
    if (ta_response_wait_drained(r) == FAILURE) RETURN_THROWS();
    if (r->ended) {
        zend_throw_error(NULL, "Cannot write: the response has already ended");
        RETURN_THROWS();
    }
    if (ZSTR_LEN(data) || !r->headers_sent) ta_response_post(r, ZSTR_VAL(data), ZSTR_LEN(data), 0);
}

ZEND_METHOD(FrankenPHP_Response, end)
{
    ZEND_PARSE_PARAMETERS_NONE();
    RES_OR_THROW(r);
    if (r->ended) return;
    ta_response_post(r, NULL, 0, 1);
}

/* Apache serves the file (sendfile, Range, ETag, conditional requests)
 * and it is the whole body: the response ends here. Only files under a
 * TrueAsyncSendFilePath directory, by their real path. */
ZEND_METHOD(FrankenPHP_Response, sendFile)
{
    zend_string *path, *type = NULL;
    ZEND_PARSE_PARAMETERS_START(1, 2)
        Z_PARAM_PATH_STR(path)
        Z_PARAM_OPTIONAL
        Z_PARAM_STR_OR_NULL(type)
    ZEND_PARSE_PARAMETERS_END();
    if (type) {
        zend_string *ct = zend_string_init("Content-Type", 12, 0);
        bool ok = check_header(ct, type, 1);
        zend_string_release(ct);
        if (!ok) RETURN_THROWS();
    }
    RES_OR_THROW(r);
    if (!head_open(r)) RETURN_THROWS();
    char real[MAXPATHLEN];
    zend_stat_t st;
    if (!VCWD_REALPATH(ZSTR_VAL(path), real) || VCWD_STAT(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        zend_throw_exception_ex(spl_ce_RuntimeException, 0, "Cannot send %s: no such file", ZSTR_VAL(path));
        RETURN_THROWS();
    }
    const ta_http_host *host = ta_http_bound_host();
    bool allowed = false;
    for (int i = 0; host && i < host->n_sendfile_dirs && !allowed; i++) {
        size_t n = strlen(host->sendfile_dirs[i]);
        allowed = strncmp(real, host->sendfile_dirs[i], n) == 0 && (real[n] == '/' || n == 1);
    }
    if (!allowed) {
        zend_throw_exception_ex(spl_ce_RuntimeException, 0, "Cannot send %s: it is outside every "
                                "TrueAsyncSendFilePath directory", ZSTR_VAL(path));
        RETURN_THROWS();
    }
    if (type) {
        zend_string *ct = zend_string_init("Content-Type", 12, 0);
        ta_response_header_put(r, ct, type, true);
        zend_string_release(ct);
    }
    /* what the request buffered is not part of this body */
    if ((r->g && r->g->live)) php_output_discard_all();
    size_t n;
    ta_kv *kv = ta_response_head_kv(r, &n, false);     /* no default type: mod_mime's */
    *ta_rglobals_headers_sent(r->g) = 1;
    r->headers_sent = r->ended = true;
    ta_exchange_post_file(r->ex, *ta_rglobals_status(r->g), kv, n, real);
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
    ta_response_header_put(r, loc, url, true);
    zend_string_release(loc);
    *ta_rglobals_status(r->g) = (int) code;
    ta_response_post(r, NULL, 0, 1);
}

/* ---- registration ---------------------------------------------------------- */

void ta_http_response_register(void)
{
    ta_ce_response = register_class_FrankenPHP_Response();
    ta_class_set_handlers(ta_ce_response, response_create, &h_response, XtOffsetOf(ta_response_obj, std),
                          response_free, true);
}
