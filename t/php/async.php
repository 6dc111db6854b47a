<?php
// Worker for the Async\ API tests (t/trueasync/3x_*.t). One PHP thread, so
// state (the channel, the event log) is shared by every request.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;
use function Async\{spawn, await, delay, suspend, timeout, await_all, await_any_or_fail};

$chan = new Async\Channel(0);
$buffered = new Async\Channel(2);
$events = [];
// await() at boot, outside any coroutine, drives the loop until done.
$bootResult = await(spawn(function () { delay(5); return 'boot-' . (2 + 3); }));

HttpServer::onRequest(function (Request $req, Response $res) use ($chan, $buffered, &$events, $bootResult) {
    $q = $req->getQueryParams();
    $out = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/boot':
        $out = ['boot' => $bootResult];
        break;
    case '/spawn':
        $c = spawn(function (int $a, int $b) { delay(20); return $a * $b; }, 6, 7);
        $before = $c->isFinished();
        $out = ['result' => await($c), 'before' => $before, 'after' => $c->isFinished(),
                'id_positive' => $c->getId() > 0, 'getResult' => $c->getResult(),
                'class' => get_class($c), 'cancelled' => $c->isCancelled()];
        break;
    case '/ids':
        $a = spawn(fn() => 1); $b = spawn(fn() => 2);
        $out = ['distinct' => $a->getId() !== $b->getId(), 'results' => [await($a), await($b)]];
        break;
    case '/suspend':
        // Two coroutines interleave at suspend(): the order proves it yields.
        $order = [];
        $x = spawn(function () use (&$order) { for ($i = 0; $i < 3; $i++) { $order[] = "x$i"; suspend(); } });
        $y = spawn(function () use (&$order) { for ($i = 0; $i < 3; $i++) { $order[] = "y$i"; suspend(); } });
        await($x); await($y);
        $out = ['order' => implode(',', $order)];
        break;
    case '/await-exception':
        $c = spawn(function () { delay(5); throw new DomainException('from child', 42); });
        try { await($c); $out = ['caught' => false]; }
        catch (DomainException $e) { $out = ['caught' => true, 'msg' => $e->getMessage(), 'code' => $e->getCode(),
                                              'getException' => get_class($c->getException())]; }
        break;
    case '/timeout':
        $t0 = hrtime(true);
        try { await(spawn(fn() => delay(2000)), timeout(100)); $out = ['timed_out' => false]; }
        catch (Async\OperationCanceledException $e) {
            $out = ['timed_out' => true, 'class' => get_class($e), 'message' => $e->getMessage(),
                    'previous' => get_class($e->getPrevious())];
        }
        $out['ms'] = (hrtime(true) - $t0) / 1e6;
        break;
    case '/timeout-not-hit':
        $out = ['result' => await(spawn(function () { delay(10); return 'in time'; }), timeout(1000))];
        break;
    case '/all':
        $t0 = hrtime(true);
        [$results, $errors] = await_all([
            'a' => spawn(function () { delay(100); return 'A'; }),
            'b' => spawn(function () { delay(100); throw new LogicException('B failed'); }),
            'c' => spawn(function () { delay(100); return 'C'; }),
        ]);
        $out = ['results' => $results, 'errors' => array_map(fn($e) => get_class($e) . ':' . $e->getMessage(), $errors),
                'ms' => (hrtime(true) - $t0) / 1e6];
        break;
    case '/all-fill':
        [$results, $errors] = await_all([spawn(fn() => 1), spawn(function () { throw new RuntimeException('x'); })], null, true, true);
        $out = ['results' => $results, 'n_errors' => count($errors)];
        break;
    case '/any':
        $t0 = hrtime(true);
        $out = ['first' => await_any_or_fail([
            spawn(function () { delay(300); return 'slow'; }),
            spawn(function () { delay(30); return 'fast'; }),
        ]), 'ms' => (hrtime(true) - $t0) / 1e6];
        break;
    case '/any-fail':
        try {
            await_any_or_fail([spawn(function () { delay(300); return 'slow'; }),
                               spawn(function () { delay(10); throw new UnexpectedValueException('first failed'); })]);
            $out = ['thrown' => false];
        } catch (UnexpectedValueException $e) { $out = ['thrown' => true, 'msg' => $e->getMessage()]; }
        break;
    case '/cancel':
        $log = [];
        $c = spawn(function () use (&$log) {
            try { delay(5000); $log[] = 'not cancelled'; }
            catch (Async\CancellationError $e) { $log[] = 'caught:' . $e->getMessage(); throw $e; }
            finally { $log[] = 'finally'; }
        });
        delay(20);
        $t0 = hrtime(true);
        $c->cancel(new Async\CancellationError('stop now'));
        try { await($c); } catch (Async\CancellationError $e) { $log[] = 'await:' . $e->getMessage(); }
        $out = ['log' => $log, 'isCancelled' => $c->isCancelled(), 'isFinished' => $c->isFinished(),
                'ms' => (hrtime(true) - $t0) / 1e6];
        break;
    case '/cancel-leak':
        // Coroutines cancelled while waiting (holding nothing) leave no memory
        // behind: a second identical round does not grow the heap.
        $round = function () {
            $cs = [];
            for ($i = 0; $i < 500; $i++) $cs[] = spawn(fn() => delay(10000));
            delay(5);
            foreach ($cs as $c) $c->cancel();
            foreach ($cs as $c) { try { await($c); } catch (Async\CancellationError $e) {} }
        };
        $round();
        gc_collect_cycles();
        $before = memory_get_usage();
        $round();
        gc_collect_cycles();
        $out = ['growth' => memory_get_usage() - $before];
        break;
    case '/cancel-await':
        // await() with a cancellation awaitable: a coroutine that finishes first.
        $stopper = spawn(function () { delay(30); return 'stop'; });
        try { await(spawn(fn() => delay(3000)), $stopper); $out = ['cancelled' => false]; }
        catch (Async\CancellationError $e) { $out = ['cancelled' => true]; }
        break;
    case '/recv':
        // Blocks until another request sends on the shared channel.
        $out = ['got' => $chan->recv(), 'id' => $q['id'] ?? ''];
        break;
    case '/send':
        $chan->send($q['v'] ?? '');
        $out = ['sent' => $q['v'] ?? ''];
        break;
    case '/buffered':
        $buffered->send(1); $buffered->send(2);
        $blocked = spawn(function () use ($buffered) { $buffered->send(3); return 'sent 3'; });
        delay(20);
        $stillWaiting = !$blocked->isFinished();
        $a = $buffered->recv();
        $r = await($blocked);
        $out = ['waiting_when_full' => $stillWaiting, 'first' => $a, 'then' => [$buffered->recv(), $buffered->recv()],
                'sender' => $r, 'count' => $buffered->count(), 'capacity' => $buffered->capacity()];
        break;
    case '/closed':
        $ch = new Async\Channel(3);
        $ch->send('left');
        $ch->close();
        $drained = $ch->recv();
        try { $ch->recv(); $r = 'no exception'; } catch (Async\ChannelException $e) { $r = get_class($e); }
        try { $ch->send('x'); $s = 'no exception'; } catch (Async\ChannelException $e) { $s = get_class($e); }
        $w = new Async\Channel();
        $sleeper = spawn(function () use ($w) { try { return $w->recv(); } catch (Async\ChannelException $e) { return 'woken:' . get_class($e); } });
        delay(10);
        $w->close();
        $out = ['drained' => $drained, 'recv_closed' => $r, 'send_closed' => $s, 'waiter' => await($sleeper), 'isClosed' => $ch->isClosed()];
        break;
    case '/orphan':
        // An exception in a spawned coroutine nobody awaits: logged, thread lives on.
        spawn(function () { delay(10); throw new OverflowException('orphan ' . ($_GET['x'] ?? 'failure')); });
        $out = ['spawned' => true];
        break;
    case '/background':
        // Keeps running after the handler returned.
        $id = $q['id'] ?? 'x';
        spawn(function () use (&$events, $id) { delay(100); $events[] = "bg-$id"; });
        $out = ['returned' => true];
        break;
    case '/events':
        $out = ['events' => $events];
        break;
    case '/echo-child':
        // Output of a coroutine the request spawned goes to that request.
        await(spawn(function () { echo "from child\n"; }));
        echo "from handler\n";
        return;
    case '/bad-args':
        $r = [];
        foreach ([fn() => delay(-1), fn() => timeout(0), fn() => new Async\Channel(-1),
                  fn() => await_any_or_fail([]), fn() => spawn('no_such_function_xyz')] as $i => $f) {
            try { $f(); $r[$i] = 'no exception'; } catch (Throwable $e) { $r[$i] = get_class($e); }
        }
        $out = ['errors' => $r];
        break;
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
