/* PHP's own response functions inside a request: header(), header_remove(),
 * setcookie() and the headers PHP adds itself (X-Powered-By, a session's
 * cookie) land in the request's FrankenPHP\Response, and headers_list()
 * reads it back, so both APIs act on one response. Status, headers_sent()
 * and header_register_callback() are PHP's own, per request (the request's
 * globals). */
#include "php_http_objects.h"
#include "php_http_api.h"
#include "php_fn_hook.h"
#include <zend_smart_str.h>
#include <main/php_output.h>
#include "stubs/php_http_classic_arginfo.h"

int ta_http_header_op(sapi_header_struct *h, sapi_header_op_enum op)
{
    ta_response_obj *r = ta_http_live_response();
    if (!r || !(r->g && r->g->live) || r->headers_sent) return SAPI_HEADER_ADD;
    if (op == SAPI_HEADER_DELETE_ALL) {
        zend_hash_clean(&r->headers);
        return 0;
    }
    if (op == SAPI_HEADER_DELETE) {
        ta_response_header_del(r, h->header, h->header_len);
        return 0;
    }
    /* "Name: value" (PHP has refused CR, LF and NUL); a line without a
     * colon is no header Apache could send */
    const char *colon = memchr(h->header, ':', h->header_len);
    if (!colon || colon == h->header) return 0;
    const char *v = colon + 1, *end = h->header + h->header_len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    zend_string *name = zend_string_init(h->header, (size_t) (colon - h->header), 0);
    /* One Content-Type: PHP's default (added when the head goes out) never
     * replaces one the handler set, through either API. */
    if (op == SAPI_HEADER_ADD && zend_string_equals_literal_ci(name, "Content-Type")
        && zend_hash_str_exists(&r->headers, "content-type", 12)) {
        zend_string_release(name);
        return 0;
    }
    zend_string *value = zend_string_init(v, (size_t) (end - v), 0);
    ta_response_header_put(r, name, value, op == SAPI_HEADER_REPLACE);
    zend_string_release(name);
    zend_string_release(value);
    return 0;
}

static zif_handler orig_headers_list;

static ZEND_FUNCTION(ta_headers_list)
{
    ta_response_obj *r = ta_http_live_response();
    if (!r || !(r->g && r->g->live)) { orig_headers_list(INTERNAL_FUNCTION_PARAM_PASSTHRU); return; }
    ZEND_PARSE_PARAMETERS_NONE();
    array_init(return_value);
    zval *entry;
    ZEND_HASH_FOREACH_VAL(&r->headers, entry) {
        zval *name = zend_hash_index_find(Z_ARRVAL_P(entry), 0), *v;
        zend_ulong idx;
        ZEND_HASH_FOREACH_NUM_KEY_VAL(Z_ARRVAL_P(entry), idx, v) {
            if (idx == 0) continue;
            add_next_index_str(return_value, zend_string_concat3(Z_STRVAL_P(name), Z_STRLEN_P(name),
                               ": ", 2, Z_STRVAL_P(v), Z_STRLEN_P(v)));
        } ZEND_HASH_FOREACH_END();
    } ZEND_HASH_FOREACH_END();
}

/* getallheaders() / apache_request_headers(), as mod_php gives them: the
 * request's headers by name (a repeated one: the last). */
ZEND_FUNCTION(getallheaders)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_response_obj *r = ta_http_live_response();
    array_init(return_value);
    if (!r || !r->g || !r->g->req) return;
    const ta_request *rq = r->g->req;
    for (size_t i = 0; i < rq->n_headers; i++)
        add_assoc_string(return_value, rq->headers[i].name, rq->headers[i].value);
}

ZEND_FUNCTION(frankenphp_response_headers)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_response_obj *r = ta_http_live_response();
    if (!r || !(r->g && r->g->live)) RETURN_FALSE;
    array_init(return_value);
    zval *entry;
    ZEND_HASH_FOREACH_VAL(&r->headers, entry) {
        zval *name = zend_hash_index_find(Z_ARRVAL_P(entry), 0);
        add_assoc_str(return_value, Z_STRVAL_P(name), ta_response_header_joined(entry));
    } ZEND_HASH_FOREACH_END();
}

/* As fastcgi_finish_request(): what the buffers hold goes out, the
 * response ends, the handler carries on without a client. */
ZEND_FUNCTION(frankenphp_finish_request)
{
    ZEND_PARSE_PARAMETERS_NONE();
    ta_response_obj *r = ta_http_live_response();
    if (!r || !(r->g && r->g->live) || r->ended || !r->ex) RETURN_FALSE;
    php_output_end_all();
    if (!r->ended) ta_response_post(r, NULL, 0, 1);
    RETURN_TRUE;
}

/* FrankenPHP's headers_send(): a 1xx status sends the headers set so far
 * as an informational response (103 Early Hints) and keeps them for the
 * final one; any other status sends the final head now. Returns the
 * status sent, 0 when the head has already gone out (a warning). */
ZEND_FUNCTION(headers_send)
{
    zend_long status = 200;
    ZEND_PARSE_PARAMETERS_START(0, 1)
        Z_PARAM_OPTIONAL
        Z_PARAM_LONG(status)
    ZEND_PARSE_PARAMETERS_END();
    if (status < 100 || status > 599) {
        zend_argument_value_error(1, "must be between 100 and 599");
        RETURN_THROWS();
    }
    ta_response_obj *r = ta_http_live_response();
    if (!r || !(r->g && r->g->live) || !r->ex) {
        zend_throw_error(NULL, "headers_send() can only be called while a request runs");
        RETURN_THROWS();
    }
    if (r->headers_sent || *ta_rglobals_headers_sent(r->g)) {
        php_error_docref(NULL, E_WARNING, "Cannot send headers: they were already sent");
        RETURN_LONG(0);
    }
    if (status < 200) {
        size_t n;
        ta_kv *kv = ta_response_head_kv(r, &n, false);
        if (ta_exchange_post_interim(r->ex, (int) status, kv, n) != 0) RETURN_LONG(0);
        RETURN_LONG(status);
    }
    *ta_rglobals_status(r->g) = (int) status;
    ta_response_post(r, NULL, 0, 0);
    RETURN_LONG(status);
}

void ta_http_classic_install(void)
{
    /* from MINIT: the functions are the trueasync extension's */
    zend_register_functions(NULL, ext_functions, NULL, MODULE_PERSISTENT);
    static const ta_fn_hook hooks[] = {
        { "headers_list", &orig_headers_list, ZEND_FN(ta_headers_list) },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}
