<?php
// Runtime micro-benchmarks, run inside the module (Async\ exists only there).
// Each endpoint measures one thing on one PHP thread and answers JSON.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;
use function Async\{spawn, await, delay, suspend};

function rss_kib(): int
{
    foreach (file('/proc/self/status') as $l) {
        if (str_starts_with($l, 'VmRSS:')) return (int) preg_replace('/\D/', '', $l);
    }
    return 0;
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $n = (int) ($q['n'] ?? 10000);
    $out = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/fiber':
        // Raw Fiber: start + one suspend/resume + finish, like spawn+await.
        $t = hrtime(true);
        for ($i = 0; $i < $n; $i++) {
            $f = new Fiber(function ($x) { Fiber::suspend($x); return $x; });
            $f->start($i);
            $f->resume();
            $f->getReturn();
        }
        $out = ['n' => $n, 'per_sec' => $n / ((hrtime(true) - $t) / 1e9)];
        break;
    case '/spawn':
        $t = hrtime(true);
        for ($i = 0; $i < $n; $i++) {
            await(spawn(function ($x) { suspend(); return $x; }, $i));
        }
        $out = ['n' => $n, 'per_sec' => $n / ((hrtime(true) - $t) / 1e9)];
        break;
    case '/fiber-switch':
        $f = new Fiber(function () { while (true) Fiber::suspend(); });
        $f->start();
        $t = hrtime(true);
        for ($i = 0; $i < $n; $i++) $f->resume();
        $out = ['n' => $n, 'per_sec' => $n / ((hrtime(true) - $t) / 1e9)];
        break;
    case '/switch':
        // Two coroutines taking turns through the scheduler.
        $t = hrtime(true);
        $a = spawn(function () use ($n) { for ($i = 0; $i < $n / 2; $i++) suspend(); });
        $b = spawn(function () use ($n) { for ($i = 0; $i < $n / 2; $i++) suspend(); });
        await($a); await($b);
        $out = ['n' => $n, 'per_sec' => $n / ((hrtime(true) - $t) / 1e9)];
        break;
    case '/sleepers':
        gc_collect_cycles();
        $mem0 = memory_get_usage(); $rss0 = rss_kib();
        $cs = [];
        for ($i = 0; $i < $n; $i++) $cs[] = spawn(fn() => delay(3000));
        delay(500);                       // all of them are suspended in delay() now
        $mem1 = memory_get_usage(); $rss1 = rss_kib();
        $done = 0;
        foreach ($cs as $c) { await($c); $done++; }
        $out = ['n' => $n, 'completed' => $done,
                'zend_bytes_per_coroutine' => ($mem1 - $mem0) / $n,
                'rss_bytes_per_coroutine' => ($rss1 - $rss0) * 1024 / $n];
        break;
    case '/lateness':
        $late = [];
        $cs = [];
        for ($i = 0; $i < $n; $i++) {
            $cs[] = spawn(function () use (&$late) {
                // The first round only lines the coroutines up: starting 1,000
                // fibers takes longer than 10 ms on its own.
                delay(10);
                for ($k = 0; $k < 5; $k++) {
                    $t = hrtime(true);
                    delay(10);
                    $late[] = (hrtime(true) - $t) / 1e6 - 10;
                }
            });
        }
        foreach ($cs as $c) await($c);
        sort($late);
        $p = fn($x) => round($late[(int) floor($x * (count($late) - 1))], 3);
        $out = ['samples' => count($late), 'p50_ms' => $p(0.5), 'p99_ms' => $p(0.99), 'max_ms' => round(end($late), 3)];
        break;
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
