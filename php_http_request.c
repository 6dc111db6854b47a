/* FrankenPHP\Request and FrankenPHP\UploadedFile: the request's data as
 * Apache handed it over, parsed on first use. */
#include "php_http_objects.h"
#include "php_http_api.h"
#include "ta_log.h"
#include "multipart.h"

#include <ext/standard/php_var.h>
#include <zend_smart_str.h>
#include <ext/standard/url.h>
#include <main/php_open_temporary_file.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "stubs/php_http_request_arginfo.h"

/* PHP's documented UPLOAD_ERR_* values (the C names are private to rfc1867.c) */
enum { UPLOAD_ERR_OK = 0, UPLOAD_ERR_INI_SIZE = 1, UPLOAD_ERR_NO_FILE = 4, UPLOAD_ERR_CANT_WRITE = 7 };

zend_class_entry *ta_ce_request, *ta_ce_upload;
static zend_object_handlers h_request, h_upload;

static zend_object *request_create(zend_class_entry *ce)
{
    ta_request_obj *o = ta_object_new(sizeof *o, ce, &h_request);
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

static zend_object *upload_create(zend_class_entry *ce)
{
    ta_upload_obj *o = ta_object_new(sizeof *o, ce, &h_upload);
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
    /* As FrankenPHP gives it (Go's Request.Proto): "HTTP/1.1", "HTTP/2.0",
     * which is also how Apache names it. */
    RETURN_STRING(rq->protocol ? rq->protocol : "HTTP/1.1");
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
    object_init_ex(&zv, ta_ce_upload);
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

/* ---- registration ---------------------------------------------------------- */

void ta_http_request_register(void)
{
    ta_ce_request = register_class_FrankenPHP_Request();
    ta_class_set_handlers(ta_ce_request, request_create, &h_request, XtOffsetOf(ta_request_obj, std),
                          request_free, true);
    ta_ce_upload = register_class_FrankenPHP_UploadedFile();
    ta_class_set_handlers(ta_ce_upload, upload_create, &h_upload, XtOffsetOf(ta_upload_obj, std), upload_free, true);
}
