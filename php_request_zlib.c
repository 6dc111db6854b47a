#include "php_request_zlib.h"
#include <zlib.h>

/* PHP 8.2's zlib globals and ob_gzhandler context, as ext/zlib/php_zlib.h
 * declares them (not installed with the headers); the size of the
 * globals is checked against the module's at start-up. */
typedef struct {
    zend_long output_compression;
    zend_long output_compression_level;
    char *output_handler;
    void *ob_gzhandler;
    zend_long output_compression_default;
    bool handler_registered;
    int compression_coding;
} zlib_globals_mirror;

typedef struct {
    char *data, *aptr;
    size_t used, free, size;
} zlib_buffer_mirror;

typedef struct {
    z_stream Z;
    char *inflateDict;
    int status;
    size_t inflateDictlen;
    zlib_buffer_mirror buffer;
} zlib_context_head;

static ts_rsrc_id *zlib_id;

void ta_request_zlib_minit(void)
{
    zend_module_entry *m = zend_hash_str_find_ptr(&module_registry, "zlib", 4);
    if (m && m->globals_id_ptr && m->globals_size == sizeof(zlib_globals_mirror)) zlib_id = m->globals_id_ptr;
}

static zlib_globals_mirror *zg(void)
{
    return zlib_id ? TSRMG_BULK(*zlib_id, zlib_globals_mirror *) : NULL;
}

void ta_request_zlib_exchange(ta_zlib_state *s)
{
    zlib_globals_mirror *g = zg();
    if (!g) return;
    void *h = g->ob_gzhandler; g->ob_gzhandler = s->gzhandler; s->gzhandler = h;
    int c = g->compression_coding; g->compression_coding = s->coding; s->coding = c;
    zend_long oc = g->output_compression; g->output_compression = s->compression; s->compression = oc;
    bool r = g->handler_registered; g->handler_registered = s->registered; s->registered = r;
}

/* PHP's encodings (ext/zlib/php_zlib.h): gzip and deflate window bits */
#define TA_ZLIB_GZIP 0x1f
#define TA_ZLIB_DEFLATE 0x0f

/* What PHP's zlib does at request start-up (RINIT), which requests here do
 * not pass through: with zlib.output_compression on and a client that
 * accepts gzip or deflate, the "zlib output compression" handler (made by
 * the ctor ob_gzhandler is an alias of) and zlib.output_handler start. */
void ta_request_zlib_start(const char *accept_encoding)
{
    zlib_globals_mirror *g = zg();
    if (!g) return;
    g->compression_coding = 0;
    g->output_compression = g->output_compression_default;
    if (!g->output_compression || !accept_encoding) return;
    if (strstr(accept_encoding, "gzip")) g->compression_coding = TA_ZLIB_GZIP;
    else if (strstr(accept_encoding, "deflate")) g->compression_coding = TA_ZLIB_DEFLATE;
    else return;
    if (g->output_compression == 1) g->output_compression = PHP_OUTPUT_HANDLER_DEFAULT_SIZE;
    php_output_handler_alias_ctor_t ctor = php_output_handler_alias(ZEND_STRL("ob_gzhandler"));
    php_output_handler *h = ctor ? ctor(ZEND_STRL("zlib output compression"), (size_t) g->output_compression,
                                        PHP_OUTPUT_HANDLER_STDFLAGS) : NULL;
    if (!h || php_output_handler_start(h) != SUCCESS) return;
    if (g->output_handler && *g->output_handler) {
        zval zoh;
        ZVAL_STRING(&zoh, g->output_handler);
        php_output_start_user(&zoh, (size_t) g->output_compression, PHP_OUTPUT_HANDLER_STDFLAGS);
        zval_ptr_dtor(&zoh);
    }
}

void ta_request_zlib_end(void)
{
    zlib_globals_mirror *g = zg();
    if (!g) return;
    g->handler_registered = 0;
    if (!g->ob_gzhandler) return;
    zlib_context_head *ctx = g->ob_gzhandler;
    deflateEnd(&ctx->Z);
    if (ctx->buffer.data) efree(ctx->buffer.data);
    efree(ctx);
    g->ob_gzhandler = NULL;
    g->compression_coding = 0;
    g->handler_registered = 0;
}
