/* Pointing one loaded shared object's calls of a function at another: its
 * GOT entries are rewritten. For libraries PHP loads with RTLD_DEEPBIND
 * (shared extensions), whose calls into their own dependencies no symbol
 * of ours can interpose. */
#ifndef TA_ELF_GOT_HOOK_H
#define TA_ELF_GOT_HOOK_H

#include <stddef.h>

typedef struct ta_got_hook {
    const char *name;   /* the called function, e.g. "PQexec" */
    void *target;       /* what the object calls instead */
} ta_got_hook;

/* Rewrites the GOT of each loaded object whose path ends in `suffix`
 * (e.g. "/pgsql.so"). Returns the number of entries rewritten. */
int ta_got_hook_object(const char *suffix, const ta_got_hook *hooks, size_t n);

#endif
