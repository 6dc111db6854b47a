/* Preloaded ahead of libasan by scripts/asan-httpd. PHP's DL_LOAD opens
 * extensions (opcache.so, which the module always loads) with RTLD_DEEPBIND
 * unless PHP itself was built with ASan, and ASan's dlopen interceptor kills
 * the process on that flag (google/sanitizers#611). Dropping the flag only
 * changes which copy of a duplicated symbol an extension binds to; PHP's
 * own extensions have none. */
#define _GNU_SOURCE
#include <dlfcn.h>

void *dlopen(const char *file, int flags)
{
    static void *(*next)(const char *, int);
    if (!next) /* a race here stores the same pointer twice */
        next = (void *(*)(const char *, int)) dlsym(RTLD_NEXT, "dlopen");
    return next(file, flags & ~RTLD_DEEPBIND);
}
