<?php
// Worker for the blocking-function tests (t/trueasync/40_sleep.t, 41_dns.t,
// 42_exec.t). One PHP thread: sleep/DNS/exec inside a request must yield to
// the other requests' coroutines. What the original functions give at boot
// (outside coroutines) is kept for the tests to compare against.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

function ta_capture(callable $f): array
{
    error_clear_last();
    try { $v = $f(); $ex = null; } catch (Throwable $e) { $v = null; $ex = get_class($e) . ': ' . $e->getMessage(); }
    $err = error_get_last();
    return ['value' => $v, 'warning' => $err['message'] ?? null, 'exception' => $ex];
}

function ta_sleep_checks(): array
{
    return [
        'sleep0' => ta_capture(fn() => sleep(0)),
        'usleep0' => ta_capture(fn() => usleep(0)),
        'nanosleep0' => ta_capture(fn() => time_nanosleep(0, 1000)),
        'until_past' => ta_capture(fn() => time_sleep_until(microtime(true) - 10)),
        'sleep_neg' => ta_capture(fn() => sleep(-1)),
        'usleep_neg' => ta_capture(fn() => usleep(-1)),
        'nanosleep_neg' => ta_capture(fn() => time_nanosleep(-1, 0)),
        'nanosleep_neg_ns' => ta_capture(fn() => time_nanosleep(0, -1)),
        'nanosleep_big_ns' => ta_capture(fn() => time_nanosleep(0, 1000000000)),
        'until_neg' => ta_capture(fn() => time_sleep_until(-1)),
    ];
}

function ta_dns_checks(): array
{
    return [
        'byname_localhost' => ta_capture(fn() => gethostbyname('localhost')),
        'bynamel_localhost' => ta_capture(fn() => gethostbynamel('localhost')),
        'byname_numeric' => ta_capture(fn() => gethostbyname('127.0.0.1')),
        'byname_invalid' => ta_capture(fn() => gethostbyname('no-such-host.invalid')),
        'bynamel_invalid' => ta_capture(fn() => gethostbynamel('no-such-host.invalid')),
        'byname_long' => ta_capture(fn() => gethostbyname(str_repeat('a', 300))),
        'bynamel_long' => ta_capture(fn() => gethostbynamel(str_repeat('a', 300))),
        'byaddr_v4' => ta_capture(fn() => gethostbyaddr('127.0.0.1')),
        'byaddr_v6' => ta_capture(fn() => gethostbyaddr('::1')),
        'byaddr_noname' => ta_capture(fn() => gethostbyaddr('192.0.2.123')),
        'byaddr_bad' => ta_capture(fn() => gethostbyaddr('not-an-address')),
    ];
}

const TA_CMDS = [
    'lines' => "printf 'a  \\nb\\t\\n\\nc   \\n'",
    'no_newline' => "printf 'x\\ny'",
    'blank_tail' => "printf 'q\\n\\n  \\n'",
    'silent' => 'true',
    'exit3' => 'echo three; exit 3',
    'killed' => 'echo before; kill -9 $$',
    'stderr' => 'echo out; echo err >&2',
    'binary' => "printf 'r\\r\\nz\\0y'",
];

function ta_exec_checks(): array
{
    $out = [];
    foreach (TA_CMDS as $k => $cmd) {
        $o = ['pre'];
        $rc = null;
        $last = exec($cmd, $o, $rc);
        $r = ['exec_array' => [$last, $o, $rc], 'exec' => exec($cmd)];
        $r['shell_exec'] = shell_exec($cmd);
        $r['backtick'] = `$cmd`;
        ob_start();
        $rc = null;
        $v = system($cmd, $rc);
        $r['system'] = [$v, ob_get_clean(), $rc];
        ob_start();
        $rc = null;
        $v = passthru($cmd, $rc);
        $r['passthru'] = [$v, ob_get_clean(), $rc];
        $out[$k] = $r;
    }
    $out['errors'] = [
        'exec_empty' => ta_capture(fn() => exec('')),
        'shell_exec_empty' => ta_capture(fn() => shell_exec('')),
        'system_nul' => ta_capture(fn() => system("a\0b")),
    ];
    return $out;
}

// JSON cannot carry arbitrary bytes: encode strings inside as base64.
function ta_b64($v)
{
    if (is_string($v)) return 'b64:' . base64_encode($v);
    if (is_array($v)) return array_map('ta_b64', $v);
    return $v;
}

$boot = [
    'sleep' => ta_sleep_checks(),
    'dns' => ta_dns_checks(),
    'exec' => ta_exec_checks(),
];
// Direct output of system()/passthru() at boot, for the body comparison.
$bootDirect = [];
foreach (TA_CMDS as $k => $cmd) {
    ob_start(); system($cmd); $s = ob_get_clean();
    ob_start(); passthru($cmd); $p = ob_get_clean();
    $bootDirect[$k] = ['system' => $s, 'passthru' => $p];
}

HttpServer::onRequest(function (Request $req, Response $res) use ($boot, $bootDirect) {
    $q = $req->getQueryParams();
    $id = (string)($q['id'] ?? '');
    $out = ['id' => $id];
    $t0 = microtime(true);
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/sleep':
        $out['ret'] = sleep(1);
        break;
    case '/usleep':
        $out['ret'] = usleep(600000);
        break;
    case '/nanosleep':
        $out['ret'] = time_nanosleep(0, 600000000);
        break;
    case '/sleep-until':
        $out['ret'] = time_sleep_until(microtime(true) + 0.2);
        break;
    case '/sleep-checks':
        $out = ['boot' => $boot['sleep'], 'now' => ta_sleep_checks()];
        break;
    case '/dns':
        $out = ['boot' => $boot['dns'], 'now' => ta_dns_checks()];
        break;
    case '/exec-sleep':
        $cmd = 'sleep 1; echo ' . escapeshellarg($id);
        $out['ret'] = match ($q['fn'] ?? '') {
            'exec' => exec($cmd),
            'backtick' => `$cmd`,
            default => shell_exec($cmd),
        };
        break;
    case '/cancel':
        // A coroutine cancelled inside a blocking call gets CancellationError.
        $f = match ($q['fn'] ?? '') {
            'usleep' => fn() => usleep(5000000),
            'shell_exec' => fn() => shell_exec('sleep 5'),
            'exec' => fn() => exec('sleep 5'),
            default => fn() => sleep(5),
        };
        $c = Async\spawn($f);
        Async\delay(50);
        $c->cancel();
        try { Async\await($c); $out['class'] = null; }
        catch (Throwable $e) { $out['class'] = get_class($e); }
        break;
    case '/cancel-group':
        // Cancelling a coroutine in shell_exec() kills the command's whole
        // process group: the shell's background child goes too.
        $f = sys_get_temp_dir() . '/ta-grp-' . getmypid() . '-' . mt_rand();
        $c = Async\spawn(fn() => shell_exec('sleep 30 & echo $! > ' . escapeshellarg($f) . '; wait'));
        Async\delay(300);
        $c->cancel();
        try { Async\await($c); } catch (Throwable $e) { $out['class'] = get_class($e); }
        $pid = (int) @file_get_contents($f);
        @unlink($f);
        $state = '?';
        for ($i = 0; $pid > 0 && $i < 100; $i++) {
            $st = @file_get_contents("/proc/$pid/stat");
            if ($st === false) { $state = 'gone'; break; }
            $state = substr($st, strrpos($st, ')') + 2, 1);
            if ($state === 'Z') break;
            Async\delay(10);
        }
        $out += ['pid' => $pid, 'state' => $state];
        break;
    case '/exec-checks':
        $out = ['boot' => ta_b64($boot['exec']), 'now' => ta_b64(ta_exec_checks())];
        break;
    case '/direct':
        // system()/passthru() straight into the response body
        $k = (string)($q['cmd'] ?? '');
        $fn = ($q['fn'] ?? '') === 'passthru' ? 'passthru' : 'system';
        $rc = null;
        $v = $fn(TA_CMDS[$k], $rc);
        $res->write("\n--END--\n" . json_encode(ta_b64(['ret' => $v, 'rc' => $rc, 'boot' => $bootDirect[$k][$fn]])));
        $res->end();
        return;
    }
    $out['start'] = $t0;
    $out['end'] = microtime(true);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
    $res->end();
});
