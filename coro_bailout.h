/* A fatal error (a Zend bailout) raised inside a coroutine stops at that
 * coroutine's boundary: the scheduler catches it where it resumed the
 * coroutine, the engine is put back as it was there, and the thread's other
 * coroutines go on. Only what the engine allows is recovered; anything else
 * is passed on, and the thread reboots its worker as before. */
#ifndef TA_CORO_BAILOUT_H
#define TA_CORO_BAILOUT_H

#include "php_common.h"

/* The engine state at a coroutine boundary, taken before resuming. */
typedef struct ta_engine_mark {
    zend_execute_data *execute_data;
    zend_vm_stack vm_stack;
    zval *vm_stack_top, *vm_stack_end;
    zend_class_entry *fake_scope;
    zend_fiber *active_fiber;
    zend_op_array *active_op_array;
    int error_reporting;
    int exit_status;
    uint32_t jit_trace_num;
    bool gc_protected;
} ta_engine_mark;

/* From MINIT: fatal errors raised inside a boundary bail out without
 * marking every object of the thread as destructed (PHP does that because
 * it is about to end the request; here the other requests go on). */
void ta_bailout_install(void);

void ta_engine_mark_take(ta_engine_mark *m);
/* Between these two, a fatal error bails out to the caller's zend_try. */
void ta_boundary_enter(void);
void ta_boundary_leave(void);
/* After a bailout caught at the boundary: restores the state of `m`.
 * false when the cause is not known to be recoverable (the caller then
 * passes the bailout on). */
bool ta_engine_recover(const ta_engine_mark *m);

/* Where a bailout lands (any zend_catch that may have come from a fiber):
 * in AddressSanitizer builds, clears the stale poison of the frames the
 * longjmp abandoned. Nothing otherwise. */
void ta_bailout_landed(void);

/* Frees the C stack of every suspended Fiber of the thread (ours and the
 * script's) without running PHP code, before a worker's state is thrown
 * away after an unrecovered bailout: two memory mappings each. */
void ta_fibers_release_all(void);

#endif
