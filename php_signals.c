#include "php_common.h"
#include "php_signals.h"
#include "php_fn_hook.h"

#include <signal.h>
#include <Zend/zend_signal.h>

/* What httpd's parent and children use: stop, restart, graceful restart,
 * graceful stop, the listener's wake-up, child reaping, pipes, alarms.
 * INT and QUIT end the process in -X mode. */
static const int apache_signals[] = {
    SIGTERM, SIGHUP, SIGUSR1, SIGWINCH, SIGCHLD, SIGPIPE, SIGALRM, SIGINT, SIGQUIT,
};

bool ta_signal_is_apaches(int signo)
{
    for (size_t i = 0; i < sizeof apache_signals / sizeof apache_signals[0]; i++)
        if (apache_signals[i] == signo) return true;
    return false;
}

void ta_signals_thread_init(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof apache_signals / sizeof apache_signals[0]; i++)
        sigaddset(&set, apache_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
#ifdef ZEND_SIGNALS
    /* Zend signals would install process-wide handlers for TERM, HUP, USR1
     * and others at every request start-up, and unblock them here: the
     * event MPM's own SIGTERM (to wake its main thread on a graceful
     * restart) then killed the whole child. */
    SIGG(reset) = 0;
#endif
}

static zif_handler orig_pcntl_signal, orig_pcntl_alarm;

static ZEND_FUNCTION(ta_pcntl_signal)
{
    zend_long signo = 0;
    if (ZEND_NUM_ARGS() >= 1 && Z_TYPE_P(ZEND_CALL_ARG(execute_data, 1)) == IS_LONG)
        signo = Z_LVAL_P(ZEND_CALL_ARG(execute_data, 1));
    if (signo > 0 && signo <= INT_MAX && ta_signal_is_apaches((int) signo)) {
        zend_argument_value_error(1, "must not be signal SIG%s (" ZEND_LONG_FMT "): Apache httpd owns it; "
                                  "a TrueAsync worker cannot handle it", sigabbrev_np((int) signo), signo);
        RETURN_THROWS();
    }
    orig_pcntl_signal(INTERNAL_FUNCTION_PARAM_PASSTHRU);
}

static ZEND_FUNCTION(ta_pcntl_alarm)
{
    /* The alarm and its SIGALRM would be the whole process's. */
    zend_throw_error(NULL, "pcntl_alarm() is not available in a TrueAsync worker: SIGALRM belongs "
                     "to Apache httpd; use Async\\delay() or a timeout instead");
    RETURN_THROWS();
}

/* max_execution_time would arm ITIMER_PROF, which is the whole process's
 * (this PHP has no per-thread timers), and unblock SIGPROF on the thread:
 * refused, except 0. */
static ZEND_INI_MH((*orig_timeout_mh));

static ZEND_INI_MH(ta_on_update_timeout)
{
    if (stage != PHP_INI_STAGE_STARTUP && stage != PHP_INI_STAGE_DEACTIVATE
        && ZEND_ATOL(ZSTR_VAL(new_value)) != 0) {
        php_error_docref(NULL, E_WARNING, "max_execution_time cannot be set in a TrueAsync worker "
                         "(its timer would be the whole Apache process's); it stays 0");
        return FAILURE;
    }
    return orig_timeout_mh(entry, new_value, mh_arg1, mh_arg2, mh_arg3, stage);
}

void ta_signals_hooks_install(void)
{
    zend_ini_entry *e = zend_hash_str_find_ptr(EG(ini_directives), ZEND_STRL("max_execution_time"));
    if (e && e->on_modify && e->on_modify != ta_on_update_timeout) {
        orig_timeout_mh = e->on_modify;
        e->on_modify = ta_on_update_timeout;
    }
    static const ta_fn_hook hooks[] = {
        { "pcntl_signal", &orig_pcntl_signal, zif_ta_pcntl_signal },
        { "pcntl_alarm", &orig_pcntl_alarm, zif_ta_pcntl_alarm },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}
