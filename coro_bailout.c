#include "coro_bailout.h"

#include <main/php_output.h>
#include <zend_compile.h>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#endif

enum { FATAL_NONE = 0, FATAL_RECOVERABLE, FATAL_UNSAFE };

static __thread int tl_boundary;    /* depth of active boundaries */
static __thread int tl_fatal;       /* what the last bailout came from */

#if defined(__SANITIZE_ADDRESS__)
/* The first fields of PHP 8.2's private struct _zend_fiber_stack. */
struct ta_fiber_stack_prefix { void *pointer; size_t size; };

/* Our instrumented frames on a fiber's stack leave redzone poison behind
 * when the fiber dies without returning (a bailout, or its stack freed
 * while suspended). PHP then unmaps the stack, and whatever reuses that
 * memory would be reported falsely: clear the whole stack first. */
static void unpoison_fiber(zend_fiber_context *ctx)
{
    const struct ta_fiber_stack_prefix *st = (const void *) ctx->stack;
    if (st && st->pointer && st->size) __asan_unpoison_memory_region(st->pointer, st->size);
}

/* The fibers a bailout from here unwinds: the running one and those that
 * resumed it, down to the thread's own stack. */
static void unpoison_fiber_chain(void)
{
    for (zend_fiber *f = EG(active_fiber); f; ) {
        unpoison_fiber(&f->context);
        zend_fiber_context *caller = f->caller;
        f = caller && caller->kind == zend_ce_fiber ? zend_fiber_from_context(caller) : NULL;
    }
}
#else
static void unpoison_fiber(zend_fiber_context *ctx) { (void) ctx; }
static void unpoison_fiber_chain(void) { }
#endif

static void (*orig_error_cb)(int type, zend_string *file, const uint32_t line, zend_string *message);

#define TA_BAILING_ERRORS (E_ERROR | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR | E_PARSE)

/* The compiler's per-compilation stacks may hold stale entries after a
 * bailout in the middle of a compilation; PHP resets them the same way
 * before it bails out of a compile error. */
static void reset_compiler(void)
{
    zend_restore_compiled_filename(NULL);
    /* emptied, element sizes kept */
    zend_stack_clean(&CG(loop_var_stack), NULL, true);
    zend_stack_clean(&CG(delayed_oplines_stack), NULL, true);
    zend_stack_clean(&CG(short_circuiting_opnums), NULL, true);
    HashTable **tables[] = { &CG(delayed_variance_obligations), &CG(delayed_autoloads), &CG(unlinked_uses) };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (*tables[i]) {
            zend_hash_destroy(*tables[i]);
            FREE_HASHTABLE(*tables[i]);
            *tables[i] = NULL;
        }
    }
    CG(current_linking_class) = NULL;
    CG(active_class_entry) = NULL;
    CG(in_compilation) = 0;
    CG(skip_shebang) = 0;
    CG(encoding_declared) = 0;
    CG(memoized_exprs) = NULL;
    CG(memoize_mode) = 0;
}

static void ta_error_cb(int type, zend_string *file, const uint32_t line, zend_string *message)
{
    int t = type & E_ALL;
    if (!tl_boundary || !(t & TA_BAILING_ERRORS) || (type & E_DONT_BAIL)
        || (EG(flags) & EG_FLAGS_IN_SHUTDOWN)) {
        orig_error_cb(type, file, line, message);
        return;
    }
    tl_fatal = t == E_CORE_ERROR ? FATAL_UNSAFE : FATAL_RECOVERABLE;
    bool compiling = CG(in_compilation) && (t == E_COMPILE_ERROR || t == E_PARSE);
    /* PHP logs it (and sets the exit status) as for any fatal error. */
    orig_error_cb(type | E_DONT_BAIL, file, line, message);
    zend_set_memory_limit(PG(memory_limit));
    if (compiling) reset_compiler();
    unpoison_fiber_chain();
    zend_bailout();
}

void ta_bailout_install(void)
{
    if (zend_error_cb == ta_error_cb) return;
    orig_error_cb = zend_error_cb;
    zend_error_cb = ta_error_cb;
}


void ta_bailout_landed(void)
{
#if defined(__SANITIZE_ADDRESS__)
    /* The longjmp came from a fiber's stack, so ASan could not clear the
     * poison of the frames it abandoned on this one (it says so: "ignoring
     * requested __asan_handle_no_return"); later frames there would then
     * be reported falsely. Everything below this frame is unused now. */
    pthread_attr_t attr;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    int rc = pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0) return;
    char *here = __builtin_frame_address(0);
    if (here > (char *) lo && here <= (char *) lo + size)
        __asan_unpoison_memory_region(lo, (size_t) (here - (char *) lo));
#endif
}

void ta_engine_mark_take(ta_engine_mark *m)
{
    m->execute_data = EG(current_execute_data);
    m->vm_stack = EG(vm_stack);
    m->vm_stack_top = EG(vm_stack_top);
    m->vm_stack_end = EG(vm_stack_end);
    m->fake_scope = EG(fake_scope);
    m->active_fiber = EG(active_fiber);
    m->active_op_array = CG(active_op_array);
    m->error_reporting = EG(error_reporting);
    m->exit_status = EG(exit_status);
    m->jit_trace_num = EG(jit_trace_num);
    m->gc_protected = gc_protected();
}

void ta_boundary_enter(void) { tl_boundary++; tl_fatal = FATAL_NONE; }
void ta_boundary_leave(void) { tl_boundary--; }

bool ta_engine_recover(const ta_engine_mark *m)
{
    ta_bailout_landed();
    int why = tl_fatal;
    tl_fatal = FATAL_NONE;
    if (why != FATAL_RECOVERABLE) return false;

    /* VM stack pages pushed past the boundary's belong to the dead frames. */
    while (EG(vm_stack) && EG(vm_stack) != m->vm_stack) {
        zend_vm_stack prev = EG(vm_stack)->prev;
        if (!prev) return false;            /* not below the mark: don't guess */
        efree(EG(vm_stack));
        EG(vm_stack) = prev;
    }
    EG(vm_stack_top) = m->vm_stack_top;
    EG(vm_stack_end) = m->vm_stack_end;
    EG(current_execute_data) = m->execute_data;
    EG(fake_scope) = m->fake_scope;
    EG(active_fiber) = m->active_fiber;
    EG(error_reporting) = m->error_reporting;
    EG(exit_status) = m->exit_status;
    EG(jit_trace_num) = m->jit_trace_num;
    CG(active_op_array) = m->active_op_array;

    /* What _zend_bailout() and the dead frames leave behind. */
    CG(unclean_shutdown) = 0;
    CG(in_compilation) = 0;
    CG(active_class_entry) = NULL;
    gc_protect(m->gc_protected);
    EG(exception) = NULL;           /* owned by the dead frames; leaked, not freed */
    EG(prev_exception) = NULL;
    EG(opline_before_exception) = NULL;
    EG(error_handling) = EH_NORMAL;
    EG(exception_class) = NULL;
    if (EG(in_autoload)) zend_hash_clean(EG(in_autoload));
    if (EG(record_errors)) {
        EG(record_errors) = false;
        zend_free_recorded_errors();
    }
    OG(running) = NULL;             /* a fatal inside an output handler */
    return true;
}

void ta_fibers_release_all(void)
{
    zend_objects_store *store = &EG(objects_store);
    for (uint32_t i = 1; i < store->top; i++) {
        zend_object *obj = store->object_buckets[i];
        if (!IS_OBJ_VALID(obj) || obj->ce != zend_ce_fiber) continue;
        zend_fiber *f = (zend_fiber *) obj;
        if (f->context.status != ZEND_FIBER_STATUS_SUSPENDED) continue;
        /* Never resumed again: its frames' values stay with the heap,
         * which request shutdown discards whole. */
        unpoison_fiber(&f->context);
        zend_fiber_destroy_context(&f->context);
        f->context.status = ZEND_FIBER_STATUS_DEAD;
    }
}
