/* Process events, through a pidfd and through the SIGCHLD fallback: exit
 * status, killed by a signal (told apart), a child that exited before the
 * watch began, not-a-child and bad pids, dispose with callbacks attached. */
#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn_sh(const char *script)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", script, (char *) NULL);
        _exit(127);
    }
    return pid;
}

static zend_async_process_event_t *watch(pid_t pid, rec *r)
{
    zend_async_process_event_t *p = ZEND_ASYNC_NEW_PROCESS_EVENT(pid);
    if (p) {
        p->base.add_callback(&p->base, rec_callback(r));
        p->base.start(&p->base);
    }
    return p;
}

static void test_mode(const char *mode)
{
    rec r = {0};
    pid_t pid = spawn_sh("exit 7");
    zend_async_process_event_t *p = watch(pid, &r);
    RUN_UNTIL(r.calls > 0, 5000);
    tap_ok(p && r.calls == 1 && r.result == &p->exit_code && *(zend_long *) r.result == 7 && p->term_signal == 0,
           "%s: exit 7 is reported as exit code 7", mode);
    tap_ok(p && ZEND_ASYNC_EVENT_IS_CLOSED(&p->base) && p->base.loop_ref_count == 0
           && waitpid(pid, NULL, WNOHANG) < 0,
           "%s: the event is closed and the child reaped", mode);
    if (p) ZEND_ASYNC_EVENT_RELEASE(&p->base);

    rec k = {0};
    pid = spawn_sh("exec sleep 30");
    p = watch(pid, &k);
    RUN_FOR(20);
    tap_is_int(k.calls, 0, "%s: a running child is not reported", mode);
    kill(pid, SIGKILL);
    RUN_UNTIL(k.calls > 0, 5000);
    tap_ok(p && k.calls == 1 && p->exit_code == -SIGKILL && p->term_signal == SIGKILL,
           "%s: a child killed by SIGKILL is reported as -9, term_signal 9", mode);
    if (p) ZEND_ASYNC_EVENT_RELEASE(&p->base);

    /* Exited, not yet reaped, before the watch starts. */
    rec z = {0};
    pid = spawn_sh("exit 3");
    siginfo_t si;
    waitid(P_PID, (id_t) pid, &si, WEXITED | WNOWAIT);
    p = watch(pid, &z);
    RUN_UNTIL(z.calls > 0, 5000);
    tap_ok(p && z.calls == 1 && p->exit_code == 3, "%s: a child that exited before the watch is reported (3)", mode);
    if (p) ZEND_ASYNC_EVENT_RELEASE(&p->base);
}

static void test_errors(void)
{
    zend_async_process_event_t *p = ZEND_ASYNC_NEW_PROCESS_EVENT(getppid());
    zend_object *ex = take_exception();
    tap_ok(p == NULL && is_instance(ex, zend_ce_error) && contains(exception_message(ex), "no child processes"),
           "watching a process that is not our child throws Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
    p = ZEND_ASYNC_NEW_PROCESS_EVENT(0);
    ex = take_exception();
    tap_ok(p == NULL && is_instance(ex, zend_ce_error) && contains(exception_message(ex), "invalid argument"),
           "pid 0 throws Error: %s", ex ? exception_message(ex) : "(none)");
    if (ex) OBJ_RELEASE(ex);
}

static void test_dispose_attached(void)
{
    rec a = {0}, b = {0};
    pid_t pid = spawn_sh("exec sleep 30");
    zend_async_process_event_t *p = watch(pid, &a);
    p->base.add_callback(&p->base, rec_callback(&b));
    ZEND_ASYNC_EVENT_RELEASE(&p->base);
    kill(pid, SIGKILL);
    RUN_FOR(30);
    int st = 0;
    pid_t w = waitpid(pid, &st, 0);
    tap_ok(a.disposed == 1 && b.disposed == 1 && a.calls == 0 && b.calls == 0 && w == pid && WIFSIGNALED(st),
           "disposing a watch with callbacks attached frees them, reports nothing, leaves the child to us");
}

static void body(void)
{
    tap_plan(13);
    /* valgrind 3.19 does not know pidfd_open and complains on each try. */
    bool pidfd = getenv("TA_REACTOR_NO_PIDFD") == NULL;
    long fd = -1;
#ifdef SYS_pidfd_open
    if (pidfd) fd = syscall(SYS_pidfd_open, getpid(), 0);
#endif
    if (fd >= 0) close((int) fd);
    tap_diag("pidfd_open is %s", fd >= 0 ? "available" : "not used here: the first run takes the SIGCHLD path too");
    ta_reactor_process_use_pidfd(pidfd);
    test_mode("pidfd");
    ta_reactor_process_use_pidfd(false);
    test_mode("SIGCHLD");
    ta_reactor_process_use_pidfd(pidfd);
    test_errors();
    test_dispose_attached();
}

int main(int argc, char **argv)
{
    int bailed = harness_run(argc, argv, body);
    return tap_done() || bailed;
}
