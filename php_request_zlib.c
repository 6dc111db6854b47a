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
}

void ta_request_zlib_end(void)
{
    zlib_globals_mirror *g = zg();
    if (!g || !g->ob_gzhandler) return;
    zlib_context_head *ctx = g->ob_gzhandler;
    deflateEnd(&ctx->Z);
    if (ctx->buffer.data) efree(ctx->buffer.data);
    efree(ctx);
    g->ob_gzhandler = NULL;
    g->compression_coding = 0;
}
