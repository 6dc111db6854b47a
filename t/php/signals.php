<?php
// Signals stay Apache's: each probe reports what PHP did, as JSON.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

function outcome(callable $f): string {
    try {
        $r = @$f();
        return 'returned ' . var_export($r, true);
    } catch (Throwable $e) {
        return get_class($e) . ': ' . $e->getMessage();
    }
}

// Signals blocked on this thread, from the kernel's view.
function blocked(): array {
    preg_match('/^SigBlk:\s*([0-9a-f]+)/m', file_get_contents('/proc/thread-self/status'), $m);
    $mask = hexdec(substr($m[1], -8));   // signals 1-32; the whole mask overflows an int
    $out = [];
    foreach (['SIGHUP' => 1, 'SIGINT' => 2, 'SIGQUIT' => 3, 'SIGUSR1' => 10, 'SIGPIPE' => 13,
              'SIGALRM' => 14, 'SIGTERM' => 15, 'SIGWINCH' => 28] as $name => $n) {
        $out[$name] = (bool) ($mask & (1 << ($n - 1)));
    }
    return $out;
}

$boot_blocked = blocked();

HttpServer::onRequest(function (Request $req, Response $res) use ($boot_blocked) {
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode([
        'boot_blocked' => $boot_blocked,
        'blocked' => blocked(),
        'pcntl_signal_term' => outcome(fn () => pcntl_signal(SIGTERM, fn () => null)),
        'pcntl_signal_usr1' => outcome(fn () => pcntl_signal(SIGUSR1, SIG_IGN)),
        'pcntl_signal_winch' => outcome(fn () => pcntl_signal(SIGWINCH, SIG_DFL)),
        'pcntl_signal_usr2' => outcome(fn () => pcntl_signal(SIGUSR2, fn () => null)),
        'pcntl_alarm' => outcome(fn () => pcntl_alarm(1)),
        'set_time_limit' => outcome(fn () => set_time_limit(5)),
        'ini_set_met' => outcome(fn () => ini_set('max_execution_time', '5')),
        'set_time_limit_0' => outcome(fn () => set_time_limit(0)),
        'met' => ini_get('max_execution_time'),
    ]));
});
