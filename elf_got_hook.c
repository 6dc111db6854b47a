#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "elf_got_hook.h"

#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define TA_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define TA_R_GLOB_DAT  R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define TA_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define TA_R_GLOB_DAT  R_AARCH64_GLOB_DAT
#else
#define TA_R_JUMP_SLOT (-1)
#define TA_R_GLOB_DAT  (-1)
#endif

typedef struct {
    const char *suffix;
    const ta_got_hook *hooks;
    size_t n;
    int rewritten;
} walk_ctx;

typedef struct {
    ElfW(Addr) base;
    const ElfW(Sym) *symtab;
    const char *strtab;
    ElfW(Addr) relro_lo, relro_hi;
} object_view;

static void write_slot(const object_view *o, void **slot, void *target)
{
    long page = sysconf(_SC_PAGESIZE);
    ElfW(Addr) a = (ElfW(Addr)) slot;
    void *start = (void *) (a & ~(ElfW(Addr)) (page - 1));
    size_t len = (a + sizeof(void *)) - (ElfW(Addr)) start;
    int relro = a >= o->relro_lo && a < o->relro_hi;
    /* a RELRO GOT (-z now) is read-only once relocated */
    if (relro && mprotect(start, len, PROT_READ | PROT_WRITE) != 0) return;
    __atomic_store_n(slot, target, __ATOMIC_SEQ_CST);
    if (relro) mprotect(start, len, PROT_READ);
}

static int rewrite_table(const object_view *o, const ElfW(Rela) *rel, size_t bytes, walk_ctx *c)
{
    int done = 0;
    for (size_t i = 0; rel && i < bytes / sizeof *rel; i++) {
        long type = (long) ELF64_R_TYPE(rel[i].r_info);
        if (type != TA_R_JUMP_SLOT && type != TA_R_GLOB_DAT) continue;
        const char *name = o->strtab + o->symtab[ELF64_R_SYM(rel[i].r_info)].st_name;
        for (size_t h = 0; h < c->n; h++) {
            if (strcmp(name, c->hooks[h].name) != 0) continue;
            write_slot(o, (void **) (o->base + rel[i].r_offset), c->hooks[h].target);
            done++;
        }
    }
    return done;
}

static int on_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void) size;
    walk_ctx *c = data;
    size_t nl = info->dlpi_name ? strlen(info->dlpi_name) : 0, sl = strlen(c->suffix);
    if (nl < sl || strcmp(info->dlpi_name + nl - sl, c->suffix) != 0) return 0;
    object_view o = { .base = info->dlpi_addr };
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type == PT_DYNAMIC) dyn = (const ElfW(Dyn) *) (o.base + p->p_vaddr);
        if (p->p_type == PT_GNU_RELRO) { o.relro_lo = o.base + p->p_vaddr; o.relro_hi = o.relro_lo + p->p_memsz; }
    }
    if (!dyn) return 0;
    const ElfW(Rela) *jmprel = NULL, *rela = NULL;
    size_t jmpsz = 0, relasz = 0;
    /* ld.so has relocated these pointers in place on most targets, not on all */
#define ADJ(v) ((v) < o.base ? (v) + o.base : (v))
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: o.symtab = (const ElfW(Sym) *) ADJ(dyn->d_un.d_ptr); break;
        case DT_STRTAB: o.strtab = (const char *) ADJ(dyn->d_un.d_ptr); break;
        case DT_JMPREL: jmprel = (const ElfW(Rela) *) ADJ(dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: jmpsz = dyn->d_un.d_val; break;
        case DT_RELA: rela = (const ElfW(Rela) *) ADJ(dyn->d_un.d_ptr); break;
        case DT_RELASZ: relasz = dyn->d_un.d_val; break;
        }
    }
#undef ADJ
    if (!o.symtab || !o.strtab) return 0;
    c->rewritten += rewrite_table(&o, jmprel, jmpsz, c);
    c->rewritten += rewrite_table(&o, rela, relasz, c);
    return 0;
}

int ta_got_hook_object(const char *suffix, const ta_got_hook *hooks, size_t n)
{
    walk_ctx c = { suffix, hooks, n, 0 };
    dl_iterate_phdr(on_object, &c);
    return c.rewritten;
}
