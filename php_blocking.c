#include "php_common.h"
#include "php_blocking.h"
#include "php_fn_hook.h"
#include "elf_got_hook.h"
#include "scheduler.h"
#include "coro_wait.h"
#include "ta_async_api.h"
#include "reactor_apr.h"

#include <main/php_network.h>
#include <main/php_output.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- the original handlers ------------------------------------------------------ */

static zif_handler orig_sleep, orig_usleep, orig_time_nanosleep, orig_time_sleep_until;
static zif_handler orig_gethostbyname, orig_gethostbynamel, orig_gethostbyaddr;
static zif_handler orig_exec, orig_system, orig_passthru, orig_shell_exec;

/* Whether to suspend the coroutine; false when the original must run
 * (worker boot, a plain Fiber, or no reactor on this thread). */
static bool yielding(void)
{
    return ta_coro_current() && zend_async_reactor_is_enabled() && ta_reactor_loop();
}

#define CALL_ORIGINAL_OUTSIDE_COROUTINE(orig)               \
    if (!yielding()) { orig(INTERNAL_FUNCTION_PARAM_PASSTHRU); return; }

/* ---- sleep family ------------------------------------------------------------------- */

/* Suspends for ms + ns on a reactor timer; FAILURE with an exception pending. */
static zend_result sleep_for(zend_ulong ms, zend_ulong ns)
{
    zend_async_timer_event_t *t = ZEND_ASYNC_NEW_TIMER_EVENT_EX(ms, ns, false, 0);
    if (!t) return FAILURE;
    int rc = ta_coro_wait_event(&t->base);
    ZEND_ASYNC_EVENT_RELEASE(&t->base);
    return rc < 0 ? FAILURE : SUCCESS;
}

/* Seconds to ms without overflow (the timer clamps what is left). */
static zend_ulong secs_to_ms(zend_ulong s)
{
    return s > ZEND_ULONG_MAX / 1000 ? ZEND_ULONG_MAX : s * 1000;
}

/* sleep()'s and usleep()'s one argument, checked as PHP checks it. */
static bool one_non_negative(zend_execute_data *execute_data, zend_long *num)
{
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_LONG(*num)
    ZEND_PARSE_PARAMETERS_END_EX(return false);
    if (*num < 0) {
        zend_argument_value_error(1, "must be greater than or equal to 0");
        return false;
    }
    return true;
}

static ZEND_FUNCTION(ta_sleep)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_sleep);
    zend_long num;
    if (!one_non_negative(execute_data, &num)) RETURN_THROWS();
    /* PHP casts to unsigned int too; an interruption here is a thrown
     * cancellation, so there are never seconds left to report. */
    if (sleep_for(secs_to_ms((unsigned int) num), 0) == FAILURE) RETURN_THROWS();
    RETURN_LONG(0);
}

static ZEND_FUNCTION(ta_usleep)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_usleep);
    zend_long num;
    if (!one_non_negative(execute_data, &num)) RETURN_THROWS();
    unsigned int us = (unsigned int) num;
    if (sleep_for(us / 1000, (zend_ulong) (us % 1000) * 1000) == FAILURE) RETURN_THROWS();
}

static ZEND_FUNCTION(ta_time_nanosleep)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_time_nanosleep);
    zend_long tv_sec, tv_nsec;
    ZEND_PARSE_PARAMETERS_START(2, 2)
        Z_PARAM_LONG(tv_sec)
        Z_PARAM_LONG(tv_nsec)
    ZEND_PARSE_PARAMETERS_END();
    if (tv_sec < 0) {
        zend_argument_value_error(1, "must be greater than or equal to 0");
        RETURN_THROWS();
    }
    if (tv_nsec < 0) {
        zend_argument_value_error(2, "must be greater than or equal to 0");
        RETURN_THROWS();
    }
    /* What nanosleep() would refuse with EINVAL. */
    if (tv_nsec > 999999999) {
        zend_value_error("Nanoseconds was not in the range 0 to 999 999 999 or seconds was negative");
        RETURN_THROWS();
    }
    zend_ulong ms = secs_to_ms((zend_ulong) tv_sec);
    zend_ulong extra_ms = (zend_ulong) tv_nsec / 1000000;
    ms = ms > ZEND_ULONG_MAX - extra_ms ? ZEND_ULONG_MAX : ms + extra_ms;
    if (sleep_for(ms, (zend_ulong) tv_nsec % 1000000) == FAILURE) RETURN_THROWS();
    RETURN_TRUE;
}

static ZEND_FUNCTION(ta_time_sleep_until)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_time_sleep_until);
    double target_secs;
    struct timeval tm;
    const uint64_t ns_per_sec = 1000000000;
    const double top_target_sec = (double) (UINT64_MAX / ns_per_sec);

    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_DOUBLE(target_secs)
    ZEND_PARSE_PARAMETERS_END();

    if (gettimeofday(&tm, NULL) != 0) RETURN_FALSE;
    if (UNEXPECTED(!(target_secs >= 0 && target_secs <= top_target_sec))) {
        zend_argument_value_error(1, "must be between 0 and %" PRIu64, (uint64_t) top_target_sec);
        RETURN_THROWS();
    }
    uint64_t target_ns = (uint64_t) (target_secs * ns_per_sec);
    uint64_t current_ns = ((uint64_t) tm.tv_sec) * ns_per_sec + ((uint64_t) tm.tv_usec) * 1000;
    if (target_ns < current_ns) {
        php_error_docref(NULL, E_WARNING, "Argument #1 ($timestamp) must be greater than or equal to the current time");
        RETURN_FALSE;
    }
    uint64_t diff_ns = target_ns - current_ns;
    if (sleep_for((zend_ulong) (diff_ns / 1000000), (zend_ulong) (diff_ns % 1000000)) == FAILURE) RETURN_THROWS();
    RETURN_TRUE;
}

/* ---- DNS ---------------------------------------------------------------------------- */

/* Appends name's IPv4 addresses (dotted, each once, resolver order) to the
 * array `list`. TA_WAIT_FAILED when the name does not resolve. */
static int resolve_ipv4(const char *name, zval *list)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;          /* gethostbyname() is IPv4 only */
    hints.ai_socktype = SOCK_STREAM;    /* one entry per address */
    zend_async_dns_addrinfo_t *ev = ZEND_ASYNC_GETADDRINFO(name, NULL, &hints);
    if (!ev) return TA_WAIT_THROWN;
    int rc = ta_coro_wait_event(&ev->base);
    if (rc == TA_WAIT_OK) {
        for (struct addrinfo *ai = ev->result; ai; ai = ai->ai_next) {
            if (ai->ai_family != AF_INET || !ai->ai_addr) continue;
            char buf[INET_ADDRSTRLEN];
            struct in_addr in = ((struct sockaddr_in *) ai->ai_addr)->sin_addr;
            if (!inet_ntop(AF_INET, &in, buf, sizeof buf)) continue;
            bool seen = false;
            zval *z;
            ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(list), z) {
                if (zend_string_equals_cstr(Z_STR_P(z), buf, strlen(buf))) { seen = true; break; }
            } ZEND_HASH_FOREACH_END();
            if (!seen) add_next_index_string(list, buf);
        }
        if (zend_hash_num_elements(Z_ARRVAL_P(list)) == 0) rc = TA_WAIT_FAILED;
    }
    ZEND_ASYNC_EVENT_RELEASE(&ev->base);
    return rc;
}

static ZEND_FUNCTION(ta_gethostbyname)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_gethostbyname);
    char *hostname;
    size_t hostname_len;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH(hostname, hostname_len)
    ZEND_PARSE_PARAMETERS_END();
    if (hostname_len > MAXFQDNLEN) {
        php_error_docref(NULL, E_WARNING, "Host name cannot be longer than %d characters", MAXFQDNLEN);
        RETURN_STRINGL(hostname, hostname_len);
    }
    zval list;
    array_init(&list);
    int rc = resolve_ipv4(hostname, &list);
    if (rc == TA_WAIT_OK) {
        ZVAL_COPY(return_value, zend_hash_index_find(Z_ARRVAL(list), 0));
    } else if (rc == TA_WAIT_FAILED) {
        /* Unresolvable: PHP hands the name back. */
        RETVAL_STRING(hostname);
    }
    zval_ptr_dtor(&list);
}

static ZEND_FUNCTION(ta_gethostbynamel)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_gethostbynamel);
    char *hostname;
    size_t hostname_len;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH(hostname, hostname_len)
    ZEND_PARSE_PARAMETERS_END();
    if (hostname_len > MAXFQDNLEN) {
        php_error_docref(NULL, E_WARNING, "Host name cannot be longer than %d characters", MAXFQDNLEN);
        RETURN_FALSE;
    }
    array_init(return_value);
    int rc = resolve_ipv4(hostname, return_value);
    if (rc == TA_WAIT_OK) return;
    zval_ptr_dtor(return_value);
    if (rc < 0) RETURN_THROWS();
    RETURN_FALSE;
}

static ZEND_FUNCTION(ta_gethostbyaddr)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_gethostbyaddr);
    char *addr;
    size_t addr_len;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_PATH(addr, addr_len)
    ZEND_PARSE_PARAMETERS_END();

    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    struct sockaddr *sa;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    /* Same order as PHP: IPv6 first, then IPv4. */
    if (inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa = (struct sockaddr *) &sa6;
    } else if (inet_pton(AF_INET, addr, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa = (struct sockaddr *) &sa4;
    } else {
        php_error_docref(NULL, E_WARNING, "Address is not a valid IPv4 or IPv6 address");
        RETURN_FALSE;
    }
    zend_async_dns_nameinfo_t *ev = ZEND_ASYNC_GETNAMEINFO(sa, NI_NAMEREQD);
    if (!ev) RETURN_THROWS();
    int rc = ta_coro_wait_event(&ev->base);
    if (rc == TA_WAIT_OK && ev->hostname && ev->hostname[0]) {
        RETVAL_STRING(ev->hostname);
    } else if (rc >= 0) {
        /* No name for it: PHP returns the address itself. */
        RETVAL_STRING(addr);
    }
    ZEND_ASYNC_EVENT_RELEASE(&ev->base);
}

/* ---- exec family -------------------------------------------------------------------- */

/* php_exec()'s types */
enum { PHP_EXEC_LAST = 0, PHP_EXEC_SYSTEM = 1, PHP_EXEC_ARRAY = 2, PHP_EXEC_PASSTHRU = 3 };

typedef struct {
    zval out;                   /* per mode: last line, lines array, or whole output */
    zval err;                   /* stderr */
    zend_long status;           /* as pclose() reports it to PHP */
} bl_exec_result;

/* Where the kernel has no pidfd_open(), the reactor learns that a command
 * exited from SIGCHLD, which httpd blocks in every thread: unblocked on the
 * PHP threads that run commands, it reaches the reactor's handler there.
 * With pidfds (Linux 5.3+) nothing needs it, and it stays blocked. */
static void sigchld_unblock(void)
{
    static __thread bool done;
    if (done || ta_reactor_pidfd_works()) return;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    done = true;
}

/* Runs `cmd` through the reactor and suspends until it is done. FAILURE
 * with no exception: it could not be started (PHP's popen() failure). */
static zend_result run_command(zend_async_exec_mode mode, const char *cmd, bl_exec_result *r)
{
    ZVAL_NULL(&r->out);
    ZVAL_NULL(&r->err);
    r->status = -1;
    if (mode == ZEND_ASYNC_EXEC_MODE_EXEC_ARRAY) array_init(&r->out);
    sigchld_unblock();
    /* popen() in a ZTS build runs the command in the thread's virtual cwd. */
    char cwd[MAXPATHLEN];
    const char *dir = VCWD_GETCWD(cwd, sizeof cwd) ? cwd : NULL;
    zend_async_exec_event_t *ev = ZEND_ASYNC_NEW_EXEC_EVENT(mode, cmd, &r->out, NULL, &r->err, dir, NULL);
    if (!ev) {
        zend_clear_exception();
        return FAILURE;
    }
    int rc = ta_coro_wait_event(&ev->base);
    if (rc != TA_WAIT_OK) {
        ZEND_ASYNC_EVENT_RELEASE(&ev->base);
        /* Not started is popen() failing; a cancellation stays thrown. */
        if (rc == TA_WAIT_REFUSED) zend_clear_exception();
        return FAILURE;
    }
    /* pclose() gives the exit status, or the raw wait status if signalled. */
    r->status = ev->term_signal ? ev->term_signal : ev->exit_code;
    ZEND_ASYNC_EVENT_RELEASE(&ev->base);
    /* The command's stderr went to the server's, as with popen(). */
    if (Z_TYPE(r->err) == IS_STRING && Z_STRLEN(r->err) > 0) {
        ssize_t n = write(STDERR_FILENO, Z_STRVAL(r->err), Z_STRLEN(r->err));
        (void) n;
    }
    return SUCCESS;
}

static void exec_result_free(bl_exec_result *r)
{
    zval_ptr_dtor(&r->out);
    zval_ptr_dtor(&r->err);
}

/* PHP's own checks on a command argument (ext/standard/exec.c). */
static bool valid_command(const char *cmd, size_t len)
{
    if (!len) {
        zend_argument_value_error(1, "cannot be empty");
        return false;
    }
    if (strlen(cmd) != len) {
        zend_argument_value_error(1, "must not contain any null bytes");
        return false;
    }
    return true;
}

/* The last line of `s` with trailing whitespace stripped, as php_exec()
 * returns it: a final newline ends the last line rather than starting one. */
static zend_string *last_line(const char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '\n') len--;
    size_t start = len;
    while (start > 0 && s[start - 1] != '\n') start--;
    size_t end = len;
    while (end > start && isspace((unsigned char) s[end - 1])) end--;
    return zend_string_init(s + start, end - start, 0);
}

/* The return value of exec()/system()/passthru(), as PHP gives it, from
 * the finished command's output. */
static void exec_return(zval *return_value, int type, zend_async_exec_mode mode, zval *ret_array, bl_exec_result *r)
{
    if (mode == ZEND_ASYNC_EXEC_MODE_EXEC_ARRAY) {
        /* Appended now: the array may have changed while we waited. */
        zval *arr = Z_REFVAL_P(ret_array);
        if (Z_TYPE_P(arr) != IS_ARRAY) arr = zend_try_array_init(ret_array);
        else SEPARATE_ARRAY(arr);
        zval *line;
        if (arr) {
            ZEND_HASH_FOREACH_VAL(Z_ARRVAL(r->out), line) {
                Z_TRY_ADDREF_P(line);
                add_next_index_zval(arr, line);
            } ZEND_HASH_FOREACH_END();
        }
        uint32_t n = zend_hash_num_elements(Z_ARRVAL(r->out));
        line = n ? zend_hash_index_find(Z_ARRVAL(r->out), n - 1) : NULL;
        if (line) RETVAL_COPY(line); else RETVAL_EMPTY_STRING();
    } else if (type == PHP_EXEC_LAST) {
        if (Z_TYPE(r->out) == IS_STRING) RETVAL_COPY(&r->out); else RETVAL_EMPTY_STRING();
    } else {
        const char *s = Z_TYPE(r->out) == IS_STRING ? Z_STRVAL(r->out) : "";
        size_t len = Z_TYPE(r->out) == IS_STRING ? Z_STRLEN(r->out) : 0;
        if (len) PHPWRITE(s, len);
        if (type == PHP_EXEC_SYSTEM) {
            if (php_output_get_level() < 1) sapi_flush();
            RETVAL_STR(last_line(s, len));
        }
    }
}

static void exec_common(INTERNAL_FUNCTION_PARAMETERS, int type)
{
    char *cmd;
    size_t cmd_len;
    zval *ret_code = NULL, *ret_array = NULL;

    ZEND_PARSE_PARAMETERS_START(1, (type ? 2 : 3))
        Z_PARAM_STRING(cmd, cmd_len)
        Z_PARAM_OPTIONAL
        if (!type) {
            Z_PARAM_ZVAL(ret_array)
        }
        Z_PARAM_ZVAL(ret_code)
    ZEND_PARSE_PARAMETERS_END();

    if (!valid_command(cmd, cmd_len)) RETURN_THROWS();
    if (ret_array && Z_TYPE_P(Z_REFVAL_P(ret_array)) != IS_ARRAY) {
        if (!zend_try_array_init(ret_array)) RETURN_THROWS();
    }

    /* Output to echo is captured and written from the coroutine, so it
     * reaches this request's response. */
    zend_async_exec_mode mode = ret_array ? ZEND_ASYNC_EXEC_MODE_EXEC_ARRAY
        : type == PHP_EXEC_LAST ? ZEND_ASYNC_EXEC_MODE_EXEC
        : ZEND_ASYNC_EXEC_MODE_SHELL_EXEC;
    bl_exec_result r;
    zend_long status;
    if (run_command(mode, cmd, &r) == FAILURE) {
        exec_result_free(&r);
        if (EG(exception)) RETURN_THROWS();
        php_error_docref(NULL, E_WARNING, "Unable to fork [%s]", cmd);
        RETVAL_FALSE;
        status = -1;
    } else {
        status = r.status;
        exec_return(return_value, type, mode, ret_array, &r);
        exec_result_free(&r);
        if (EG(exception)) RETURN_THROWS();
    }
    if (ret_code) ZEND_TRY_ASSIGN_REF_LONG(ret_code, status);
}

static ZEND_FUNCTION(ta_exec)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_exec);
    exec_common(INTERNAL_FUNCTION_PARAM_PASSTHRU, PHP_EXEC_LAST);
}

static ZEND_FUNCTION(ta_system)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_system);
    exec_common(INTERNAL_FUNCTION_PARAM_PASSTHRU, PHP_EXEC_SYSTEM);
}

static ZEND_FUNCTION(ta_passthru)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_passthru);
    exec_common(INTERNAL_FUNCTION_PARAM_PASSTHRU, PHP_EXEC_PASSTHRU);
}

static ZEND_FUNCTION(ta_shell_exec)
{
    CALL_ORIGINAL_OUTSIDE_COROUTINE(orig_shell_exec);
    char *command;
    size_t command_len;
    ZEND_PARSE_PARAMETERS_START(1, 1)
        Z_PARAM_STRING(command, command_len)
    ZEND_PARSE_PARAMETERS_END();
    if (!valid_command(command, command_len)) RETURN_THROWS();
    bl_exec_result r;
    if (run_command(ZEND_ASYNC_EXEC_MODE_SHELL_EXEC, command, &r) == FAILURE) {
        exec_result_free(&r);
        if (EG(exception)) RETURN_THROWS();
        php_error_docref(NULL, E_WARNING, "Unable to execute '%s'", command);
        RETURN_FALSE;
    }
    /* null when there was no output, as in PHP */
    if (Z_TYPE(r.out) == IS_STRING && Z_STRLEN(r.out) > 0) RETVAL_COPY(&r.out);
    exec_result_free(&r);
}

/* ---- C sleeps inside shared extensions ------------------------------------------------ */

/* phpredis waits for a session lock (redis.session.locking_enabled) with
 * libc's usleep() between tries: inside a coroutine the wait is a reactor
 * timer, so the thread's other requests go on. Once cancelled, no wait:
 * the extension's loop runs out its few tries and gives up. */
static int ext_usleep(useconds_t us)
{
    if (!yielding()) return usleep(us);
    if (!EG(exception)) sleep_for(us / 1000, (zend_ulong) (us % 1000) * 1000);
    return 0;
}

static void ext_sleeps_install(void)
{
    static const ta_got_hook sleeps[] = { { "usleep", (void *) ext_usleep } };
    ta_got_hook_object("/redis.so", sleeps, 1);
}

/* ---- installation ------------------------------------------------------------------- */

static const ta_fn_hook hooks[] = {
    { "sleep", &orig_sleep, zif_ta_sleep },
    { "usleep", &orig_usleep, zif_ta_usleep },
    { "time_nanosleep", &orig_time_nanosleep, zif_ta_time_nanosleep },
    { "time_sleep_until", &orig_time_sleep_until, zif_ta_time_sleep_until },
    { "gethostbyname", &orig_gethostbyname, zif_ta_gethostbyname },
    { "gethostbynamel", &orig_gethostbynamel, zif_ta_gethostbynamel },
    { "gethostbyaddr", &orig_gethostbyaddr, zif_ta_gethostbyaddr },
    { "exec", &orig_exec, zif_ta_exec },
    { "system", &orig_system, zif_ta_system },
    { "passthru", &orig_passthru, zif_ta_passthru },
    { "shell_exec", &orig_shell_exec, zif_ta_shell_exec },
};

void ta_blocking_hooks_install(void)
{
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
    ext_sleeps_install();
}
