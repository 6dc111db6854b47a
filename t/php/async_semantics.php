<?php
// php-async's semantics the module follows (issue 20): each path prints,
// in order, what a small program does inside the request coroutine; the
// test compares the lines.
use FrankenPHP\HttpServer;
use Async\{Scope, TaskGroup, Channel, ChannelException, Pool, Coroutine, CompositeException, AsyncCancellation, Future, FutureState};
use function Async\{spawn, await, delay, suspend, timeout, current_coroutine, iterate, await_all, await_any_or_fail};

// Prints what a scope exception handler receives.
function report_to(Scope $s): void
{
    $s->setExceptionHandler(function (Scope $at, Coroutine $c, Throwable $e) {
        if ($e instanceof CompositeException) {
            $parts = array_map(fn ($x) => get_class($x) . ' ' . $x->getMessage(), $e->getExceptions());
            echo 'handler: composite of ', implode(', ', $parts), "\n";
        } else {
            echo 'handler: ', get_class($e), ' ', $e->getMessage(), "\n";
        }
    });
}

function yes(bool $b): string { return $b ? 'yes' : 'no'; }

HttpServer::onRequest(function ($req, $res) {
    $res->setHeader('Content-Type', 'text/plain');
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/channel-next-receiver':
        // the value handed to a receiver cancelled before it ran goes to the next one
        $ch = new Channel(1);
        $first = spawn(function () use ($ch) {
            try { return $ch->recv(); } catch (AsyncCancellation) { return 'first cancelled'; }
        });
        suspend();
        $second = spawn(fn () => $ch->recv());
        suspend();
        $ch->send('v');
        $first->cancel();
        try { $v = await($second, timeout(2000)); echo "second got: $v\n"; }
        catch (Throwable $e) { echo 'second got nothing: ', get_class($e), "\n"; }
        $v = await($first);
        echo "first: $v\n";
        echo 'count: ', count($ch), "\n";
        break;
    case '/channel-back-to-buffer':
        // with nobody else waiting it goes back into the buffer
        $ch = new Channel(0);
        $only = spawn(function () use ($ch) {
            try { return $ch->recv(); } catch (AsyncCancellation) { return 'cancelled'; }
        });
        suspend();
        $ch->sendAsync('w');
        $only->cancel();
        $v = await($only);
        echo "receiver: $v\n";
        echo 'count: ', count($ch), "\n";
        $later = spawn(fn () => $ch->recv());
        try { $v = await($later, timeout(2000)); echo "a later recv: $v\n"; }
        catch (Throwable $e) { echo 'a later recv got nothing: ', get_class($e), "\n"; }
        break;
    case '/group-finally':
        $g = new TaskGroup();
        $g->finally(function (TaskGroup $x) { echo 'finally: ', count($x), " tasks\n"; });
        $g->spawn(fn () => 'a');
        $g->spawn(function () { delay(5); return 'b'; });
        $g->close();
        $v = implode(',', await($g->all()));
        echo "results: $v\n";
        suspend();
        $g->finally(function () { echo "a finally added once it is over runs at once\n"; });
        echo "end\n";
        break;
    case '/finally-errors':
        $scope = new Scope();
        report_to($scope);
        $c = $scope->spawn(function () {
            $me = current_coroutine();
            $me->finally(function () { echo "finally one\n"; throw new LogicException('f1'); });
            $me->finally(function () { echo "finally two\n"; throw new RangeException('f2'); });
            suspend();
            throw new RuntimeException('body');
        });
        try { await($c); } catch (RuntimeException $e) { echo 'awaited: ', $e->getMessage(), "\n"; }
        $d = $scope->spawn(fn () => 1);
        $d->finally(function () { throw new DomainException('only one'); });
        $v = await($d);
        echo "second result: $v\n";
        $s2 = new Scope();
        report_to($s2);
        $s2->spawn(fn () => null);
        $s2->finally(function (Scope $s) { echo 'scope finally, finished: ', yes($s->isFinished()), "\n"; throw new UnexpectedValueException('from scope finally'); });
        $s2->dispose();
        suspend();
        echo "after the scope\n";
        $s3 = new Scope();
        report_to($s3);
        $g = new TaskGroup(scope: $s3);
        $g->spawn(fn () => 1);
        $g->finally(function () { throw new OutOfRangeException('from group finally'); });
        $g->close();
        await($g->all());
        suspend();
        suspend();
        echo "end\n";
        break;
    case '/handler-timing':
        $scope = new Scope();
        report_to($scope);
        $scope->spawn(function () { throw new RuntimeException('boom'); });
        suspend();
        echo "after one suspend\n";
        $c = $scope->spawn(function () { suspend(); throw new RuntimeException('awaited by the request'); });
        try { await($c); } catch (RuntimeException $e) { echo 'caught: ', $e->getMessage(), "\n"; }
        suspend();
        suspend();
        echo "end\n";
        break;
    case '/cancel-tree':
        $p = new Scope();
        $child = Scope::inherit($p);
        $grand = Scope::inherit($child);
        $grand->spawn(function () {
            try { suspend(); suspend(); echo "grandchild finished\n"; }
            catch (AsyncCancellation) { echo "grandchild cancelled\n"; }
        });
        suspend();
        $p->cancel();
        suspend();
        echo 'child cancelled: ', yes($child->isCancelled()), ', grandchild cancelled: ', yes($grand->isCancelled()), "\n";
        break;
    case '/cancel-safe':
        // Scope::inherit() of the request's scope is safe, as php-async's main scope
        $safe = Scope::inherit();
        $started = $safe->spawn(function () { suspend(); echo "the started one finished\n"; return 'done'; });
        suspend();
        $late = $safe->spawn(function () { echo "never runs\n"; });
        $safe->cancel();
        $v = await($started);
        echo "started: $v\n";
        suspend();
        echo 'scope cancelled: ', yes($safe->isCancelled()), ', started cancelled: ', yes($started->isCancelled()),
             ', unstarted cancelled: ', yes($late->isCancelled()), "\n";
        $unsafe = new Scope();
        $victim = $unsafe->spawn(function () { try { suspend(); suspend(); echo "not reached\n"; } catch (AsyncCancellation) { echo "new Scope(): cancelled\n"; } });
        suspend();
        $unsafe->cancel();
        await($victim);
        break;
    case '/await-cancelled':
        $s = Scope::inherit()->asNotSafely();
        $s->spawn(function () { try { while (true) suspend(); } catch (AsyncCancellation) {} });
        suspend();
        $s->cancel(new AsyncCancellation('stop'));
        try { $s->awaitCompletion(timeout(1000)); echo "awaitCompletion returned\n"; }
        catch (AsyncCancellation $e) { echo 'awaitCompletion threw: ', $e->getMessage(), "\n"; }
        suspend();
        $s->awaitCompletion(timeout(1000));
        echo 'once it is over: finished ', yes($s->isFinished()), "\n";
        break;
    case '/suspended':
        $c = spawn(function () { suspend(); suspend(); return 'r'; });
        suspend();
        echo 'isSuspended: ', yes($c->isSuspended()), "\n";
        $t = $c->getTrace();
        echo 'trace: ', is_array($t) ? implode(' < ', array_map(fn ($f) => $f['function'], $t)) : 'null', "\n";
        $v = await($c);
        echo "result: $v\n";
        echo 'isSuspended once finished: ', yes($c->isSuspended()), "\n";
        break;
    case '/pool-fifo':
        $pool = new Pool(factory: fn () => new stdClass(), max: 1);
        $r = $pool->acquire();
        $waiter = spawn(function () use ($pool) {
            $x = $pool->acquire();
            echo "the waiter got it\n";
            $pool->release($x);
        });
        suspend();
        $pool->release($r);
        $again = $pool->acquire();
        echo "the releaser got it again\n";
        $pool->release($again);
        await($waiter);
        echo 'idle: ', $pool->idleCount(), "\n";
        break;
    case '/iterate-failure':
        try {
            iterate([1, 2, 3, 4, 5], function ($v) {
                echo "begin $v\n";
                suspend();
                if ($v === 2) throw new RuntimeException("error at $v");
                delay(50);
                echo "end $v\n";
            }, concurrency: 3);
        } catch (RuntimeException $e) { echo 'caught: ', $e->getMessage(), "\n"; }
        echo "done\n";
        break;
    case '/channel-receivers':
        // unbuffered: one value in hand-over at a time, as php-async orders it
        $ch = new Channel(0);
        $all = [spawn(function () use ($ch) {
            foreach ([1, 2, 3] as $i) { echo "send $i\n"; $ch->send($i); }
            $ch->close();
            echo "sender closed\n";
        })];
        foreach (['A', 'B'] as $name) {
            $all[] = spawn(function () use ($ch, $name) {
                try { while (true) { $v = $ch->recv(); echo "$name got $v\n"; } }
                catch (ChannelException) { echo "$name: closed\n"; }
            });
        }
        echo "spawned\n";
        await_all($all);
        break;
    case '/channel-scope-disposed':
        $s = new Scope();
        $c = $s->spawn(function () {
            $ch = new Channel(0);
            try { $ch->recv(); }
            catch (ChannelException $e) { echo get_class($e), ': ', $e->getMessage(), ', ', $e->reason->name, "\n"; }
            catch (AsyncCancellation $e) { echo get_class($e), "\n"; }
        });
        suspend();
        $s->dispose();
        await($c);
        break;
    case '/future-misc':
        set_error_handler(function ($no, $str) { echo 'warning: ', preg_replace('~ Created at .*$~', ' (created at)', $str), "\n"; return true; });
        $st = new FutureState();
        $f = new Future($st);
        $st->complete(1);
        unset($f, $st);
        echo "after the unused one\n";
        $st = new FutureState();
        (new Future($st))->ignore();
        $st->complete(2);
        unset($st);
        $st = new FutureState();
        $f = new Future($st);
        $st->complete(3);
        $v = await($f);
        echo "awaited: $v\n";
        unset($f, $st);
        restore_error_handler();
        $st = new FutureState();
        $r = (new Future($st))->finally(function () { throw new LogicException('finally boom'); });
        $st->error(new RuntimeException('parent boom'));
        try { await($r); }
        catch (LogicException $e) { echo 'top: ', $e->getMessage(), ', previous: ', $e->getPrevious()?->getMessage() ?? 'none', "\n"; }
        break;
    case '/await-misc':
        $gen = (function () { yield new stdClass() => spawn(fn () => 1); })();
        try { await_all($gen); } catch (Throwable $e) { echo get_class($e), ': ', $e->getMessage(), "\n"; }
        echo 'await_any_or_fail([]): ', var_export(await_any_or_fail([]), true), "\n";
        $t = timeout(1000);
        $t->cancel();
        echo 'a cancelled Timeout is completed: ', yes($t->isCompleted()), "\n";
        $calls = [fn () => timeout(0), fn () => new Channel(-1), fn () => new TaskGroup(-1),
                  fn () => (new TaskGroup())->any(), fn () => (new TaskGroup())->race()];
        foreach ($calls as $call) {
            try { $call(); echo "no error\n"; } catch (Throwable $e) { echo get_class($e), ': ', $e->getMessage(), "\n"; }
        }
        break;
    default:
        $res->setStatus(404);
    }
});
