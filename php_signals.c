#include "php_common.h"
#include "php_signals.h"
#include "php_blocking.h"

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
        zend_argument_value_error(1, "must not be signal %s (" ZEND_LONG_FMT "): Apache httpd owns it; "
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

void ta_signals_hooks_install(void)
{
    static const ta_fn_hook hooks[] = {
        { "pcntl_signal", &orig_pcntl_signal, zif_ta_pcntl_signal },
        { "pcntl_alarm", &orig_pcntl_alarm, zif_ta_pcntl_alarm },
    };
    ta_hook_functions(hooks, sizeof hooks / sizeof hooks[0]);
}
