/* Exec events and the blocking exec: stdout per mode, stderr, exit code, a
 * failing command, a command that cannot start, timeouts, a command killed
 * by a signal, env and cwd, large output, dispose while running. */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string.h>

typedef struct {
    zval out, code, err;
    rec r;
    zend_async_exec_event_t *x;
} run;

/* Starts cmd; the zvals are the caller's (here: the run's). */
static void run_start(run *t, zend_async_exec_mode mode, const char *cmd, const char *cwd, const char *env,
                      zend_ulong timeout)
{
    memset(t, 0, sizeof *t);
    ZVAL_NULL(&t->out);
    ZVAL_NULL(&t->code);
    ZVAL_NULL(&t->err);
    t->x = ZEND_ASYNC_NEW_EXEC_EVENT(mode, cmd, &t->out, &t->code, &t->err, cwd, env);
    if (!t->x) return;
    t->x->timeout = timeout;
    t->x->base.add_callback(&t->x->base, rec_callback(&t->r));
    t->x->base.start(&t->x->base);
}

static bool run_wait(run *t)
{
    return t->x && RUN_UNTIL(t->r.calls > 0, 8000);
}

static void run_end(run *t)
{
    if (t->x) ZEND_ASYNC_EVENT_RELEASE(&t->x->base);
    rec_clear(&t->r);
    zval_ptr_dtor(&t->out);
    zval_ptr_dtor(&t->code);
    zval_ptr_dtor(&t->err);
}

static bool str_is(zval *z, const char *s)
{
    return Z_TYPE_P(z) == IS_STRING && strcmp(Z_STRVAL_P(z), s) == 0;
}

static void test_modes(void)
{
    run t;
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "printf 'a  \\nb\\t\\n'; printf oops >&2; exit 3", NULL, NULL, 0);
    run_wait(&t);
    tap_ok(t.r.calls == 1 && t.r.exception == NULL && t.r.result == &t.x->exit_code && t.x->exit_code == 3,
           "the result is the exit code (3)");
    tap_ok(str_is(&t.out, "a  \nb\t\n") && str_is(&t.err, "oops") && Z_TYPE(t.code) == IS_LONG && Z_LVAL(t.code) == 3,
           "shell_exec mode: all of stdout, stderr and the exit code land in the zvals");
    tap_ok(ZEND_ASYNC_EVENT_IS_CLOSED(&t.x->base) && t.x->base.loop_ref_count == 0, "the event is closed when done");
    run_end(&t);

    run_start(&t, ZEND_ASYNC_EXEC_MODE_EXEC_ARRAY, "printf 'a  \\nb\\t\\n\\nc'", NULL, NULL, 0);
    run_wait(&t);
    HashTable *ht = Z_TYPE(t.out) == IS_ARRAY ? Z_ARRVAL(t.out) : NULL;
    tap_ok(ht && zend_hash_num_elements(ht) == 4 && str_is(zend_hash_index_find(ht, 0), "a")
           && str_is(zend_hash_index_find(ht, 1), "b") && str_is(zend_hash_index_find(ht, 2), "")
           && str_is(zend_hash_index_find(ht, 3), "c"),
           "exec-array mode: one element per line, trailing whitespace gone");
    run_end(&t);

    run_start(&t, ZEND_ASYNC_EXEC_MODE_EXEC, "printf 'first\\nlast  \\n'", NULL, NULL, 0);
    run_wait(&t);
    tap_ok(str_is(&t.out, "last"), "exec mode: the last line");
    run_end(&t);

    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "true", NULL, NULL, 0);
    run_wait(&t);
    tap_ok(t.r.calls == 1 && Z_TYPE(t.out) == IS_NULL && str_is(&t.err, "") && Z_LVAL(t.code) == 0,
           "shell_exec mode with no output gives NULL, like shell_exec()");
    run_end(&t);
}

static void test_echo_modes(void)
{
    zval echoed;
    run t;
    php_output_start_default();
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SYSTEM, "printf 'x\\ny\\n'", NULL, NULL, 0);
    run_wait(&t);
    php_output_get_contents(&echoed);
    php_output_discard();
    tap_ok(str_is(&echoed, "x\ny\n") && str_is(&t.out, "y"), "system mode echoes the output and keeps the last line");
    zval_ptr_dtor(&echoed);
    run_end(&t);

    php_output_start_default();
    run_start(&t, ZEND_ASYNC_EXEC_MODE_PASSTHRU, "printf 'raw\\0bytes'", NULL, NULL, 0);
    run_wait(&t);
    php_output_get_contents(&echoed);
    php_output_discard();
    tap_ok(Z_TYPE(echoed) == IS_STRING && Z_STRLEN(echoed) == 9 && memcmp(Z_STRVAL(echoed), "raw\0bytes", 9) == 0
           && Z_TYPE(t.out) == IS_NULL,
           "passthru mode echoes raw bytes and keeps nothing");
    zval_ptr_dtor(&echoed);
    run_end(&t);
}

static void test_failures(void)
{
    run t;
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "no-such-command-ta-reactor", NULL, NULL, 0);
    run_wait(&t);
    tap_ok(t.r.calls == 1 && t.r.exception == NULL && t.x->exit_code == 127
           && Z_TYPE(t.err) == IS_STRING && contains(Z_STRVAL(t.err), "not found"),
           "a command that fails reports 127 and the shell's complaint on stderr");
    run_end(&t);

    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "true", "/no/such/dir", NULL, 0);
    zend_object *ex = take_exception();
    tap_ok(t.x && is_instance(ex, zend_ce_error) && contains(exception_message(ex), "no such file")
           && ZEND_ASYNC_EVENT_IS_CLOSED(&t.x->base) && t.x->base.loop_ref_count == 0,
           "a command that cannot start (bad cwd) throws Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
    run_end(&t);

    zend_async_exec_event_t *x = ZEND_ASYNC_NEW_EXEC_EVENT(ZEND_ASYNC_EXEC_MODE_EXEC, NULL, NULL, NULL, NULL, NULL, NULL);
    ex = take_exception();
    tap_ok(x == NULL && is_instance(ex, zend_ce_error), "no command throws Error");
    if (ex) OBJ_RELEASE(ex);

    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "echo started; kill -TERM $$", NULL, NULL, 0);
    run_wait(&t);
    tap_ok(t.r.calls == 1 && t.x->exit_code == -15 && t.x->term_signal == 15 && Z_LVAL(t.code) == -15
           && str_is(&t.out, "started\n"),
           "a command killed by SIGTERM reports -15, term_signal 15");
    run_end(&t);
}

static void test_timeout(void)
{
    run t;
    uint64_t t0 = now_ms();
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "echo before; exec sleep 30", NULL, NULL, 100);
    run_wait(&t);
    uint64_t ms = now_ms() - t0;
    tap_ok(t.r.calls == 1 && is_instance(t.r.exception, ta_ce_timeout_exception) && t.x->timed_out
           && ms >= 95 && ms < 5000,
           "a command past its 100 ms timeout ends with TimeoutException after %llu ms: %s",
           (unsigned long long) ms, t.r.exception ? exception_message(t.r.exception) : "(none)");
    tap_ok(t.x->exit_code == -9 && str_is(&t.out, "before\n"), "it was killed (-9); its output so far is kept");
    run_end(&t);

    /* A background grandchild holding the pipes open cannot stall it. */
    t0 = now_ms();
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "sleep 1 & exec sleep 30", NULL, NULL, 100);
    run_wait(&t);
    ms = now_ms() - t0;
    tap_ok(t.r.calls == 1 && is_instance(t.r.exception, ta_ce_timeout_exception) && ms < 5000,
           "the timeout holds even when a grandchild keeps the pipes open (%llu ms)", (unsigned long long) ms);
    run_end(&t);
}

static void test_env_cwd_large(void)
{
    run t;
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "printf '%s|%s' \"$GREETING\" \"$(pwd)\"", "/tmp",
              "GREETING=hello world\0OTHER=1\0", 0);
    run_wait(&t);
    tap_ok(str_is(&t.out, "hello world|/tmp"), "env and cwd are applied (%s)",
           Z_TYPE(t.out) == IS_STRING ? Z_STRVAL(t.out) : "-");
    run_end(&t);

    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "head -c 300000 /dev/zero | tr '\\0' x", NULL, NULL, 0);
    run_wait(&t);
    tap_ok(Z_TYPE(t.out) == IS_STRING && Z_STRLEN(t.out) == 300000 && Z_STRVAL(t.out)[299999] == 'x',
           "300000 bytes of output arrive whole");
    run_end(&t);
}

static void test_blocking_exec(void)
{
    zval out, code, err;
    ZVAL_NULL(&out);
    ZVAL_NULL(&code);
    ZVAL_NULL(&err);
    uint32_t base = ZEND_ASYNC_ACTIVE_EVENT_COUNT;
    int rc = ZEND_ASYNC_EXEC(ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "echo hi; echo warn >&2; exit 4", &out, &code, &err,
                             NULL, NULL, 0);
    tap_ok(rc == 4 && str_is(&out, "hi\n") && str_is(&err, "warn\n") && Z_LVAL(code) == 4
           && EG(exception) == NULL && ZEND_ASYNC_ACTIVE_EVENT_COUNT == base,
           "exec() runs to completion and returns the exit code (4), zvals filled");

    rc = ZEND_ASYNC_EXEC(ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "exec sleep 30", &out, NULL, NULL, NULL, NULL, 100);
    zend_object *ex = take_exception();
    tap_ok(rc == -1 && is_instance(ex, ta_ce_timeout_exception), "exec() past its timeout returns -1 and throws TimeoutException");
    if (ex) OBJ_RELEASE(ex);

    rc = ZEND_ASYNC_EXEC(ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "true", NULL, NULL, NULL, "/no/such/dir", NULL, 0);
    ex = take_exception();
    tap_ok(rc == -1 && is_instance(ex, zend_ce_error), "exec() that cannot start returns -1 and throws Error");
    if (ex) OBJ_RELEASE(ex);
    zval_ptr_dtor(&out);
    zval_ptr_dtor(&code);
    zval_ptr_dtor(&err);
}

/* "R", "S", "Z"...: a process's state, or "gone". */
static char proc_state(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 'X';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* A timeout kills the command's whole process group, not only the shell. */
static void test_kills_group(void)
{
    run t;
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "sleep 30 & echo $!; wait", NULL, NULL, 200);
    run_wait(&t);
    long pid = Z_TYPE(t.out) == IS_STRING ? strtol(Z_STRVAL(t.out), NULL, 10) : 0;
    uint64_t dl = now_ms() + 2000;
    char st = pid > 0 ? proc_state(pid) : '?';
    while (pid > 0 && st != 'X' && st != 'Z' && now_ms() < dl) { usleep(10000); st = proc_state(pid); }
    tap_ok(is_instance(t.r.exception, ta_ce_timeout_exception) && pid > 0 && (st == 'X' || st == 'Z'),
           "a timeout kills the shell's background child too (pid %ld, state %c)", pid, st);
    run_end(&t);
}

/* With a pidfd the exit is seen without SIGCHLD, which httpd blocks. */
static void test_without_sigchld(void)
{
    if (!ta_reactor_pidfd_works()) {
        tap_ok(1, "# SKIP no pidfd here (the SIGCHLD fallback is what runs)");
        return;
    }
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    run t;
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "echo fine", NULL, NULL, 0);
    run_wait(&t);
    tap_ok(t.r.calls == 1 && t.x->exit_code == 0 && str_is(&t.out, "fine\n"),
           "a command ends normally with SIGCHLD blocked in the thread");
    run_end(&t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void test_dispose_running(void)
{
    run t;
    uint64_t t0 = now_ms();
    run_start(&t, ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, "exec sleep 30", NULL, NULL, 0);
    rec extra = {0};
    t.x->base.add_callback(&t.x->base, rec_callback(&extra));
    RUN_FOR(20);
    ZEND_ASYNC_EVENT_RELEASE(&t.x->base);
    t.x = NULL;
    RUN_FOR(50);
    tap_ok(t.r.disposed == 1 && extra.disposed == 1 && t.r.calls == 0 && Z_TYPE(t.out) == IS_NULL
           && now_ms() - t0 < 5000,
           "disposing a running command with callbacks attached kills it, reports nothing, frees all");
    run_end(&t);
}

static void body(void)
{
    tap_plan(23);
    test_modes();
    test_echo_modes();
    test_failures();
    test_timeout();
    test_env_cwd_large();
    test_blocking_exec();
    test_dispose_running();
    test_kills_group();
    test_without_sigchld();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
