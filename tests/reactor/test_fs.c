/* Filesystem events: a file created and written in a watched directory, a
 * watched file changed, a missing path, an empty path, dispose with
 * callbacks attached. */
#include "harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/ta_reactor_fsXXXXXX";

static void append(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) tap_diag("cannot write %s", path);
    if (fd >= 0) close(fd);
}

static zend_async_filesystem_event_t *watch(const char *path, rec *r)
{
    zend_string *p = zend_string_init(path, strlen(path), 0);
    zend_async_filesystem_event_t *f = ZEND_ASYNC_NEW_FILESYSTEM_EVENT(p, 0);
    zend_string_release(p);     /* the event keeps its own copy */
    if (f) {
        f->base.add_callback(&f->base, rec_callback(r));
        f->base.start(&f->base);
    }
    return f;
}

typedef struct {
    bool saw_name;
    unsigned events;
} seen;

static void note_change(rec *r, zend_async_event_t *e, void *result, zend_object *ex)
{
    (void) e; (void) ex;
    zend_async_filesystem_event_t *f = result;
    seen *s = r->ctx;
    s->events |= f->triggered_events;
    if (f->triggered_filename && strcmp(ZSTR_VAL(f->triggered_filename), "data.txt") == 0) s->saw_name = true;
}

static void test_directory(void)
{
    rec r = {0};
    seen s = {0};
    r.hook = note_change;
    r.ctx = &s;
    zend_async_filesystem_event_t *f = watch(dir, &r);
    tap_ok(f && strcmp(ZSTR_VAL(f->path), dir) == 0 && f->base.loop_ref_count == 1, "watching a directory starts");
    char file[64];
    snprintf(file, sizeof file, "%s/data.txt", dir);
    append(file, "hello\n");
    RUN_UNTIL(s.saw_name && (s.events & ZEND_ASYNC_FS_EVENT_CHANGE), 5000);
    tap_ok(s.saw_name && (s.events & (ZEND_ASYNC_FS_EVENT_RENAME | ZEND_ASYNC_FS_EVENT_CHANGE)),
           "creating and writing data.txt is seen, with its name (events 0x%x)", s.events);
    tap_ok(f && !ZEND_ASYNC_EVENT_IS_CLOSED(&f->base) && r.result == f && r.exception == NULL,
           "the result is the event itself, which stays open");
    if (f) ZEND_ASYNC_EVENT_RELEASE(&f->base);
}

static void test_file(void)
{
    char file[64];
    snprintf(file, sizeof file, "%s/watched.txt", dir);
    append(file, "one\n");
    rec r = {0};
    zend_async_filesystem_event_t *f = watch(file, &r);
    RUN_FOR(20);
    int before = r.calls;
    append(file, "two\n");
    RUN_UNTIL(r.calls > before, 5000);
    tap_ok(f && r.calls > before && (f->triggered_events & ZEND_ASYNC_FS_EVENT_CHANGE),
           "appending to a watched file is seen as a change");
    if (f) ZEND_ASYNC_EVENT_RELEASE(&f->base);
}

static void test_errors(void)
{
    char missing[64];
    snprintf(missing, sizeof missing, "%s/missing/deeper", dir);
    rec r = {0};
    zend_async_filesystem_event_t *f = watch(missing, &r);
    zend_object *ex = take_exception();
    tap_ok(f && is_instance(ex, zend_ce_error) && contains(exception_message(ex), "no such file")
           && f->base.loop_ref_count == 0,
           "watching a missing path fails to start with Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
    if (f) ZEND_ASYNC_EVENT_RELEASE(&f->base);
    tap_is_int(r.disposed, 1, "the failed watch is released cleanly");

    zend_async_filesystem_event_t *e = ZEND_ASYNC_NEW_FILESYSTEM_EVENT(ZSTR_EMPTY_ALLOC(), 0);
    ex = take_exception();
    tap_ok(e == NULL && is_instance(ex, zend_ce_error), "an empty path throws Error");
    if (ex) OBJ_RELEASE(ex);
}

static void test_dispose_attached(void)
{
    rec a = {0}, b = {0};
    zend_async_filesystem_event_t *f = watch(dir, &a);
    f->base.add_callback(&f->base, rec_callback(&b));
    ZEND_ASYNC_EVENT_RELEASE(&f->base);
    char file[64];
    snprintf(file, sizeof file, "%s/late.txt", dir);
    append(file, "x");
    RUN_FOR(30);
    tap_ok(a.disposed == 1 && b.disposed == 1 && a.calls == 0 && b.calls == 0,
           "disposing a watch with callbacks attached frees them; later changes reach nobody");
}

static void cleanup_dir(void)
{
    static const char *names[] = { "data.txt", "watched.txt", "late.txt" };
    char file[64];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(file, sizeof file, "%s/%s", dir, names[i]);
        unlink(file);
    }
    rmdir(dir);
}

static void body(void)
{
    tap_plan(8);
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp failed\n");
        return;
    }
    test_directory();
    test_file();
    test_errors();
    test_dispose_attached();
    cleanup_dir();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
