<?php
// Fatal errors stay with their request (TrueAsyncThreads 1, memory_limit 32M).
// /wait?ms=N: waits, then reports the boot id; the fatal routes fail in
// different ways; /maps counts this process's memory mappings.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$GLOBALS['boot'] = bin2hex(random_bytes(8));
$GLOBALS['finally_ran'] = 0;
$GLOBALS['served'] = 0;

function maps(): int { return count(file('/proc/self/maps')); }

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $q = $req->getQueryParams();
    $res->setHeader('Content-Type', 'text/plain');
    switch ($path) {
    case '/wait':
        Async\delay((int) ($q['ms'] ?? 100));
        $GLOBALS['served']++;
        $res->write("ok boot={$GLOBALS['boot']} id=" . ($q['id'] ?? '') . "\n");
        return;
    case '/compile':
        eval('function strlen($s) { return 0; }');
        break;
    case '/include':
        include __DIR__ . '/inc/redeclare.inc';
        break;
    case '/oom-big':
        $s = str_repeat('x', 64 * 1024 * 1024);
        break;
    case '/oom-grow':
        $chunks = [];
        for ($i = 0; $i < 1000; $i++) $chunks[] = str_repeat('y', 1024 * 1024);
        break;
    case '/user-error':
        trigger_error('ta-user-fatal', E_USER_ERROR);
        break;
    case '/spawn-fatal':
        // children in flight when their request dies: they are cancelled
        for ($i = 0; $i < 10; $i++) {
            Async\spawn(function () {
                try { Async\delay(5000); } finally { $GLOBALS['finally_ran']++; }
            });
        }
        Async\delay(1);
        eval('function strlen($s) { return 0; }');
        break;
    case '/spawn-ok':
        $cs = [];
        for ($i = 0; $i < 10; $i++) $cs[] = Async\spawn(fn () => Async\delay(1));
        Async\await_all($cs);
        $res->write("ok\n");
        return;
    case '/fiber':     // PHP's Fiber API on a coroutine's own fiber, and on a user fiber
        $out = [];
        $try = function (string $name, callable $f) use (&$out) {
            try { $out[$name] = 'returned ' . var_export($f(), true); }
            catch (Throwable $e) { $out[$name] = get_class($e) . ': ' . $e->getMessage(); }
        };
        $mine = Fiber::getCurrent();
        $try('suspend', fn () => Fiber::suspend());
        $try('resume_self', fn () => $mine->resume());
        $other = null;
        $c = Async\spawn(function () use (&$other) { $other = Fiber::getCurrent(); Async\delay(50); return 'child done'; });
        Async\delay(10);
        $try('resume_other', fn () => $other->resume());
        $try('throw_other', fn () => $other->throw(new Exception('x')));
        $try('child', fn () => Async\await($c));
        $user = new Fiber(function () { $v = Fiber::suspend('paused'); return "got $v"; });
        $try('user_start', fn () => $user->start());
        $try('user_resume', fn () => $user->resume('go'));
        $try('user_result', fn () => $user->getReturn());
        $res->write(json_encode($out));
        return;
    case '/cancel-unstarted':   // cancelled before it ever ran
        $log = [];
        $c = Async\spawn(function () use (&$log) { $log[] = 'ran'; Async\suspend(); return 7; });
        $c->cancel();
        try { $log[] = 'returned ' . var_export(Async\await($c), true); }
        catch (Throwable $e) { $log[] = get_class($e); }
        $log[] = 'cancelled=' . var_export($c->isCancelled(), true);
        $d = Async\spawn(function () use (&$log) { $log[] = 'yielded'; Async\suspend(); $log[] = 'resumed'; });
        Async\suspend();                    // $d runs up to its suspend(), then waits its turn
        $d->cancel();
        try { Async\await($d); $log[] = 'returned'; } catch (Throwable $e) { $log[] = get_class($e); }
        $res->write(implode(',', $log) . ' pid=' . getmypid());
        return;
    case '/any-order':          // $a fails first, $b succeeds after; $b is first in the input
        $a = Async\spawn(function () { throw new RuntimeException('a failed first'); });
        $b = Async\spawn(fn () => 'b');
        try { $res->write('returned ' . Async\await_any_or_fail([$b, $a])); }
        catch (Throwable $e) { $res->write(get_class($e) . ': ' . $e->getMessage()); }
        return;
    case '/iterables':
        $gen = (function () { yield 'x' => Async\spawn(fn () => 1); yield 'y' => Async\spawn(fn () => 2); })();
        $agg = new class implements IteratorAggregate {
            public function getIterator(): Iterator { return new ArrayIterator(['p' => Async\spawn(fn () => 'P')]); }
        };
        $out = [];
        foreach (['generator' => $gen, 'arrayiterator' => new ArrayIterator([5 => Async\spawn(fn () => 'five')]),
                  'aggregate' => $agg] as $kind => $it) {
            try { $out[$kind] = Async\await_all($it)[0]; }
            catch (Throwable $e) { $out[$kind] = get_class($e) . ': ' . $e->getMessage(); }
        }
        $out['any_generator'] = Async\await_any_or_fail((function () { yield Async\spawn(fn () => 'g'); })());
        $res->write(json_encode($out));
        return;
    case '/observed-later':     // awaited after it failed: observed, not logged
        $id = $q['id'] ?? '';
        $c = Async\spawn(function () use ($id) { throw new RuntimeException("later-$id"); });
        Async\delay(50);
        try { Async\await($c); } catch (RuntimeException $e) { $res->write('caught ' . $e->getMessage() . ';'); }
        unset($c);
        Async\spawn(function () use ($id) { throw new LogicException("orphan-$id"); });
        Async\delay(20);
        return;
    case '/recvfrom':           // waits for a datagram (or TCP data) a sibling sends 300 ms later
        $proto = ($q['proto'] ?? 'udp') === 'tcp' ? 'tcp' : 'udp';
        $srv = stream_socket_server("$proto://127.0.0.1:0", $errno, $errstr,
                                    $proto === 'udp' ? STREAM_SERVER_BIND : STREAM_SERVER_BIND | STREAM_SERVER_LISTEN);
        $addr = stream_socket_get_name($srv, false);
        $t0 = hrtime(true);
        $sender = Async\spawn(function () use ($addr, $proto) {
            $c = stream_socket_client("$proto://$addr");
            Async\delay(300);
            $sent = stream_socket_sendto($c, "ping-$proto");
            $name = stream_socket_get_name($c, false);
            Async\delay(50);
            return [$sent, $name];
        });
        $conn = $proto === 'tcp' ? stream_socket_accept($srv, 5) : $srv;
        $data = stream_socket_recvfrom($conn, 100, 0, $peer);
        [$sent, $from] = Async\await($sender);
        $res->write(json_encode(['data' => $data, 'sent' => $sent, 'peer_is_sender' => $proto === 'udp' ? $peer === $from : true,
                                 'ms' => intdiv(hrtime(true) - $t0, 1000000)]));
        return;
    case '/state':
        $res->write(json_encode(['boot' => $GLOBALS['boot'], 'maps' => maps(),
            'finally' => $GLOBALS['finally_ran'], 'served' => $GLOBALS['served'],
            'strlen' => strlen('abc'), 'mem' => memory_get_usage()]));
        return;
    default:
        $res->setStatus(404);
        return;
    }
    $res->write("unreachable\n");
});
