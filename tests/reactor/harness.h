/* Shared by the reactor tests: boots an embedded ZTS PHP with the reactor
 * registered and started on this thread, records callback invocations, and
 * runs the loop until a condition holds or a deadline passes. */
#ifndef TA_REACTOR_HARNESS_H
#define TA_REACTOR_HARNESS_H

#include "php_common.h"
#include "ta_async_api.h"
#include "reactor_apr.h"
#include "../unit/tap.h"

#include <stdint.h>

/* What a recording callback saw. Lives with the test; the callback struct
 * itself is emalloc'd and freed by its dispose, like a real consumer's. */
typedef struct rec rec;
typedef void (*rec_hook)(rec *r, zend_async_event_t *event, void *result, zend_object *exception);
struct rec {
    int calls;
    int disposed;
    void *result;
    zend_object *exception;     /* last one seen, referenced; rec_clear drops it */
    rec_hook hook;              /* optional extra action inside the callback */
    void *ctx;
};

/* A new callback (ref_count 0: the event that gets it owns it). */
zend_async_event_callback_t *rec_callback(rec *r);
void rec_clear(rec *r);

/* Boots PHP (the reactor registered in MINIT), starts the reactor and runs
 * body from inside a PHP function call, as real callers are: the engine
 * only lets exceptions be thrown with a frame on the stack. Then shuts
 * everything down. Non-zero if PHP bailed out. tap.h keeps its counters
 * per file, so body prints the plan and main returns tap_done(). */
int harness_run(int argc, char **argv, void (*body)(void));
/* Set before harness_run: more functions for the test's PHP module (the
 * scheduler's runner and coroutine bodies, for instance). */
extern const zend_function_entry *harness_functions;
/* Shutdown (or, if abandon, ta_reactor_abandon) and startup mid-test. */
void harness_reactor_down(bool abandon);
void harness_reactor_up(void);

uint64_t now_ms(void);
/* One blocking loop iteration, but never past deadline (ms, now_ms clock). */
void harness_tick(uint64_t deadline);

/* Runs the loop until cond holds or ms elapse; evaluates to cond. */
#define RUN_UNTIL(cond, ms) __extension__ ({                                \
        uint64_t dl_ = now_ms() + (ms);                                     \
        while (!(cond) && now_ms() < dl_) harness_tick(dl_);                \
        (cond);                                                             \
    })
/* Runs the loop for ms regardless (to show something does NOT happen). */
#define RUN_FOR(ms) do {                                                    \
        uint64_t dl_ = now_ms() + (ms);                                     \
        while (now_ms() < dl_) harness_tick(dl_);                           \
    } while (0)

/* Takes the pending exception (NULL if none) off EG(exception). */
zend_object *take_exception(void);
bool is_instance(zend_object *obj, zend_class_entry *ce);
/* The exception's message; valid while the object lives. */
const char *exception_message(zend_object *ex);
zend_long exception_code(zend_object *ex);
/* Case-insensitive substring test, for libuv's error texts. */
bool contains(const char *haystack, const char *needle);

#endif
