<?php
// php-async's runtime functions (issue 11): available_parallelism(),
// runtime_stats(), CpuSnapshot, cpu_usage(), loadavg(), signal() with the
// Signal enum, iterate(), graceful_shutdown().
use FrankenPHP\HttpServer;
use Async\{Signal, CpuSnapshot, OperationCanceledException, AsyncCancellation};
use function Async\{spawn, await, delay, suspend, timeout, iterate, signal, available_parallelism, runtime_stats,
                    cpu_usage, loadavg, graceful_shutdown, current_coroutine};

$booted = getmypid() . '-' . hrtime(true);

HttpServer::onRequest(function ($req, $res) use ($booted) {
    $o = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/info':
        $o['parallelism'] = available_parallelism();
        $c = spawn(fn () => delay(50));
        suspend();
        $o['stats'] = runtime_stats();
        await($c);
        $a = CpuSnapshot::now();
        $x = 0; for ($i = 0; $i < 300000; $i++) $x += $i;    // some CPU between the two
        $b = CpuSnapshot::now();
        $o['snap'] = ['wall' => $b->wallNs - $a->wallNs, 'cpu' => ($b->processUserNs + $b->processSystemNs) - ($a->processUserNs + $a->processSystemNs),
                      'count' => $b->cpuCount, 'busy' => $b->systemBusyNs >= $a->systemBusyNs];
        try { $a->wallNs = 1; } catch (Error $e) { $o['readonly'] = get_class($e); }
        cpu_usage();
        delay(20);
        $o['usage'] = cpu_usage();
        $o['loadavg'] = loadavg();
        break;
    case '/iterate':
        $log = [];
        iterate(['a' => 1, 'b' => 2, 'c' => 3], function ($v, $k) use (&$log) { $log[] = "$k=$v"; });
        $o['basic'] = $log;
        $log = [];
        iterate([1, 2, 3, 4], function ($v) use (&$log) { $log[] = $v; return $v < 2 ? null : false; });
        $o['stop'] = $log;
        try { iterate([1, 2, 3], function ($v) use (&$log) { if ($v === 2) throw new RuntimeException("at $v"); }); }
        catch (RuntimeException $e) { $o['error'] = $e->getMessage(); }
        $now = 0; $peak = 0;
        iterate(range(1, 6), function () use (&$now, &$peak) { $now++; $peak = max($peak, $now); delay(5); $now--; }, concurrency: 3);
        $o['peak'] = $peak;
        $gen = (function () { yield 'x' => 10; yield 'y' => 20; })();
        $sum = 0;
        iterate($gen, function ($v, $k) use (&$sum) { $sum += $v; });
        $o['generator'] = $sum;
        $log = [];
        iterate([1, 2], function ($v) use (&$log) {
            spawn(function () use ($v, &$log) { try { delay(1000); $log[] = "child $v done"; } catch (AsyncCancellation $e) { $log[] = "child $v cancelled"; } });
        });
        $o['cancel_pending'] = $log;
        $log = [];
        iterate([1, 2], function ($v) use (&$log) {
            spawn(function () use ($v, &$log) { delay(10); $log[] = "child $v done"; });
        }, cancelPending: false);
        $o['wait_pending'] = $log;
        break;
    case '/iterate-model':      // php-async's: a few workers pull the elements, one more each time one first yields
        $log = [];
        try {
            iterate([1, 2, 3, 4, 5], function ($v) use (&$log) {
                $log[] = "begin $v";
                suspend();
                if ($v === 2) throw new RuntimeException("error at $v");
                $log[] = "end $v";
            }, concurrency: 3);
        } catch (RuntimeException $e) { $log[] = 'caught: ' . $e->getMessage(); }
        $o['order'] = $log;
        $ids = [];
        iterate([1, 2, 3], function () use (&$ids) { $ids[] = spl_object_id(current_coroutine()); });
        $o['one_worker'] = count(array_unique($ids));
        $now = 0; $peak = 0;
        iterate(range(1, 6), function () use (&$now, &$peak) { $now++; $peak = max($peak, $now); delay(20); $now--; });
        $o['unlimited_peak'] = $peak;
        $seen = [];
        $gen = (function () { for ($i = 1; $i <= 4; $i++) { delay(2); yield $i; } })();
        iterate($gen, function ($v) use (&$seen) { delay(10); $seen[] = $v; }, concurrency: 2);
        sort($seen);
        $o['suspending_generator'] = $seen;
        break;
    case '/signal':
        $pid = getmypid();
        $f = signal(Signal::SIGUSR2);
        spawn(function () use ($pid) { delay(20); posix_kill($pid, SIGUSR2); });
        $t0 = hrtime(true);
        $got = await($f, timeout(3000));
        $o['got'] = $got === Signal::SIGUSR2 ? 'SIGUSR2' : var_export($got, true);
        $o['ms'] = (hrtime(true) - $t0) / 1e6;
        try { await(signal(Signal::SIGUSR2, timeout(20))); } catch (OperationCanceledException $e) { $o['token'] = get_class($e->getPrevious()); }
        foreach ([Signal::SIGTERM, Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGWINCH, Signal::SIGINT, Signal::SIGKILL, Signal::SIGBREAK] as $s) {
            try { signal($s); $o['refused'][$s->name] = 'accepted'; } catch (ValueError $e) { $o['refused'][$s->name] = $e->getMessage(); }
        }
        $o['pid'] = $pid;
        break;
    case '/boot':
        $o['booted'] = $booted;
        break;
    case '/shutdown':
        graceful_shutdown();
        delay(50);          // in flight: this request still finishes
        $o['finished'] = true;
        $o['booted'] = $booted;
        break;
    default:
        $res->setStatus(404);
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($o));
});
