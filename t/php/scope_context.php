<?php
// Structured concurrency and contexts as php-async defines them (issue 11):
// Async\Scope, Async\Context and the context functions, the exception tree
// and Completable. One route per behaviour; each answers JSON.
use FrankenPHP\HttpServer;
use Async\{Scope, Context, Coroutine, AsyncCancellation, OperationCanceledException};
use function Async\{spawn, spawn_with, await, delay, suspend, timeout, current_context, coroutine_context,
                    root_context, request_context, current_coroutine};

// Set while the script boots: every request on this thread sees it below
// its own scope, through find().
root_context()->set('booted', getmypid());

HttpServer::onRequest(function ($req, $res) {
    $o = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/exceptions':
        foreach (['Async\AsyncCancellation', 'Async\OperationCanceledException', 'Async\CancellationError',
                  'Async\TimeoutException', 'Async\DnsException', 'Async\InputOutputException', 'Async\PollException',
                  'Async\DeadlockError', 'Async\ServiceUnavailableException', 'Async\CompositeException',
                  'Async\ChannelException', 'Async\ContextException', 'Cancellation'] as $c) {
            $o['parents'][$c] = array_values(class_parents($c));
        }
        $o['alias'] = get_class(new Async\CancellationError('x'));
        $comp = new Async\CompositeException('many');
        $comp->addException(new RuntimeException('a'));
        $comp->addException(new LogicException('b'));
        $o['composite'] = array_map(fn ($e) => get_class($e) . ':' . $e->getMessage(), $comp->getExceptions());
        $o['completable'] = [is_subclass_of(Coroutine::class, 'Async\Completable'),
                             is_subclass_of(Async\Timeout::class, 'Async\Completable')];
        try { new Exception('x') instanceof Exception; throw new AsyncCancellation('c'); }
        catch (Exception $e) { $o['caught_by'] = 'Exception'; }
        catch (Cancellation $e) { $o['caught_by'] = 'Cancellation'; }
        break;
    case '/timeout-cancel':         // Timeout as a Completable
        $t = timeout(30);
        $t->cancel();
        $o['state'] = [$t->isCompleted(), $t->isCancelled()];
        // a cancelled token never trips: the wait goes on to the result
        $o['result'] = await(spawn(function () { delay(60); return 'done'; }), $t);
        $t2 = timeout(10);
        delay(30);
        $o['fired'] = [$t2->isCompleted(), $t2->isCancelled()];
        break;
    case '/is-cancelled':           // php-async: cancelled AND finished
        $c = spawn(function () { delay(1000); });
        suspend();
        $c->cancel();
        $o['before'] = [$c->isCancelled(), $c->isCancellationRequested()];
        try { await($c); } catch (AsyncCancellation $e) { $o['threw'] = get_class($e); }
        $o['after'] = [$c->isCancelled(), $c->isCancellationRequested()];
        break;
    case '/scope-basic':
        $scope = new Scope();
        $o['fresh'] = [$scope->isFinished(), $scope->isClosed(), $scope->isCancelled()];
        $a = $scope->spawn(function ($x) { delay(20); return $x * 2; }, 21);
        $b = $scope->spawn(fn () => 'b');
        $o['running'] = $scope->isFinished();
        $scope->awaitCompletion(timeout(1000));
        $o['results'] = [await($a), await($b)];
        $o['done'] = $scope->isFinished();
        $o['provider'] = $scope->provideScope() === $scope;
        $child = Scope::inherit($scope);
        $o['children'] = count($scope->getChildScopes()) === 1 && $scope->getChildScopes()[0] === $child;
        break;
    case '/scope-cancel':           // cancel() reaches the scope's coroutines and its children's
        $scope = Scope::inherit()->asNotSafely();   // inherited scopes are safe (php-async): cancel() would let them finish
        $child = Scope::inherit($scope);
        $log = [];
        $mk = function ($name) use (&$log) {
            return function () use ($name, &$log) {
                try { delay(2000); $log[] = "$name:not cancelled"; }
                catch (AsyncCancellation $e) { $log[] = "$name:" . $e->getMessage(); throw $e; }
                finally { $log[] = "$name:finally"; }
            };
        };
        $c1 = $scope->spawn($mk('parent'));
        $c2 = $child->spawn($mk('child'));
        $outside = spawn(function () { delay(50); return 'untouched'; });
        suspend();
        $scope->cancel(new AsyncCancellation('stop all'));
        $scope->awaitAfterCancellation(null, timeout(1000));
        sort($log);
        $o['log'] = $log;
        $o['state'] = [$scope->isCancelled(), $scope->isClosed(), $scope->isFinished(), $child->isFinished(),
                       $c1->isCancelled(), $c2->isCancelled()];
        $o['outside'] = await($outside);
        try { $scope->spawn(fn () => 1); $o['spawn_closed'] = 'spawned'; }
        catch (Async\AsyncException $e) { $o['spawn_closed'] = $e->getMessage(); }
        break;
    case '/scope-await-timeout':    // the token trips, the scope runs on
        $scope = new Scope();
        $c = $scope->spawn(function () { delay(300); return 'late'; });
        try { $scope->awaitCompletion(timeout(20)); $o['threw'] = 'none'; }
        catch (OperationCanceledException $e) { $o['threw'] = get_class($e->getPrevious()); }
        $o['still'] = $scope->isFinished();
        $o['late'] = await($c);
        break;
    case '/scope-self-await':
        $scope = new Scope();
        $inner = $scope->spawn(function () use ($scope) {
            try { $scope->awaitCompletion(timeout(100)); return 'no error'; }
            catch (Throwable $e) { return get_class($e) . ': ' . $e->getMessage(); }
        });
        $o['inner'] = await($inner);
        break;
    case '/scope-handler':          // an exception handler takes what a coroutine throws
        $scope = Scope::inherit();
        $got = [];
        $scope->setExceptionHandler(function (Scope $s, Coroutine $c, Throwable $e) use (&$got, $scope) {
            $got[] = [$s === $scope, $e->getMessage()];
        });
        $scope->spawn(function () { throw new RuntimeException('boom'); });
        $child = Scope::inherit($scope);
        $parentOnly = Scope::inherit();
        $parentOnly->setChildScopeExceptionHandler(function (Scope $s, Coroutine $c, Throwable $e) use (&$got) {
            $got[] = ['child-handler', $e->getMessage()];
        });
        $grandchild = Scope::inherit($parentOnly);     // held: a Scope that goes cancels its coroutines
        $grandchild->spawn(function () { throw new LogicException('from a child scope'); });
        delay(20);
        $o['got'] = $got;
        break;
    case '/scope-fail':             // an exception nobody took fails its scope (php-async)
        $scope = new Scope();
        $sibling = $scope->spawn(function () { delay(300); return 'sibling done'; });
        $bad = $scope->spawn(function () { delay(10); throw new RuntimeException('boom'); });
        try { $scope->awaitCompletion(timeout(1000)); $o['await'] = 'returned'; }
        catch (Throwable $e) { $o['await'] = [get_class($e), $e->getMessage(), $e === $bad->getException() ? 1 : 0]; }
        delay(1);
        $o['state'] = [$scope->isCancelled(), $sibling->isCancelled()];
        // upwards: a child scope without a handler fails, then its parent
        $parent = new Scope();
        $child = Scope::inherit($parent);
        $child->spawn(function () { delay(10); throw new LogicException('deep'); });
        try { $parent->awaitCompletion(timeout(1000)); $o['up'] = 'returned'; }
        catch (Throwable $e) { $o['up'] = get_class($e) . ': ' . $e->getMessage(); }
        $o['up_state'] = [$child->isCancelled(), $parent->isCancelled()];
        // the parent's child-scope handler takes it: the child fails, the parent goes on
        $parent = new Scope();
        $parent->setChildScopeExceptionHandler(function () {});
        $child = Scope::inherit($parent);
        $child->spawn(function () { delay(10); throw new LogicException('handled'); });
        $late = $parent->spawn(function () { delay(40); return 'late'; });
        try { $parent->awaitCompletion(timeout(1000)); $o['handled'] = await($late); }
        catch (Throwable $e) { $o['handled'] = get_class($e) . ': ' . $e->getMessage(); }
        $o['handled_state'] = [$child->isCancelled(), $parent->isCancelled()];
        // one awaiting the coroutine takes its exception: the scope does not fail
        $scope = new Scope();
        $c = $scope->spawn(function () { delay(10); throw new RuntimeException('mine'); });
        $watcher = spawn(function () use ($c) { try { await($c); } catch (RuntimeException $e) { return $e->getMessage(); } });
        try { $scope->awaitCompletion(timeout(1000)); $o['awaited'] = ['returned', await($watcher)]; }
        catch (Throwable $e) { $o['awaited'] = [get_class($e), $e->getMessage()]; }
        $o['awaited_state'] = $scope->isCancelled();
        break;
    case '/scope-finally':
        $log = [];
        $scope = new Scope();
        $scope->finally(function (Scope $s) use (&$log, $scope) { $log[] = 'finally:' . ($s === $scope ? 'same' : 'other'); });
        $scope->spawn(function () use (&$log) { delay(10); $log[] = 'work'; });
        $scope->disposeSafely();
        $log[] = 'disposed';
        delay(40);
        $o['log'] = $log;
        break;
    case '/scope-destroy':          // the last reference going cancels what runs in it
        $log = [];
        (function () use (&$log) {
            $scope = new Scope();
            $scope->spawn(function () use (&$log) {
                try { delay(2000); } catch (AsyncCancellation $e) { $log[] = $e->getMessage(); }
            });
            suspend();
        })();
        delay(10);
        $o['log'] = $log;
        break;
    case '/scope-dispose-timeout':
        $scope = new Scope();
        $c = $scope->spawn(function () { delay(2000); return 'finished'; });
        $scope->disposeAfterTimeout(30);
        $t0 = hrtime(true);
        try { await($c); $o['outcome'] = 'finished'; } catch (AsyncCancellation $e) { $o['outcome'] = 'cancelled'; }
        $o['ms'] = (hrtime(true) - $t0) / 1e6;
        $o['closed'] = $scope->isClosed();
        break;
    case '/spawn-with':
        $scope = new Scope();
        $strategy = new class($scope) implements Async\SpawnStrategy {
            public array $seen = [];
            public function __construct(private Scope $s) {}
            public function provideScope(): ?Scope { return $this->s; }
            public function beforeCoroutineEnqueue(Coroutine $coroutine, Scope $scope): array { $this->seen[] = 'before'; return []; }
            public function afterCoroutineEnqueue(Coroutine $coroutine, Scope $scope): void { $this->seen[] = 'after'; }
        };
        $c = spawn_with($strategy, fn ($a, $b) => $a + $b, 2, 3);
        $o['result'] = await($c);
        $o['seen'] = $strategy->seen;
        $d = spawn_with($scope, function () { delay(500); });
        suspend();
        $scope->cancel();
        try { await($d); $o['in_scope'] = 'not cancelled'; } catch (AsyncCancellation $e) { $o['in_scope'] = 'cancelled with its scope'; }
        break;
    case '/context':                // lookups up the scope tree, local forms, object keys
        $id = $req->getQueryParams()['id'] ?? '?';
        $key = new stdClass();
        current_context()->set('user', $id)->set($key, "obj-$id");
        $o['request_is_current'] = request_context() === current_context();
        $o['root'] = current_context()->find('booted') === getmypid();
        $o['root_local'] = current_context()->hasLocal('booted');
        coroutine_context()->set('mine', 'handler');
        $o['coroutine_ctx'] = current_coroutine()->getContext() === coroutine_context();
        $o['child'] = await(spawn(function () use ($key) {
            delay(random_int(1, 30));     // interleave with the other requests
            return [current_context()->get('user'), current_context()->find($key),
                    coroutine_context()->find('mine'), request_context()?->get('user'),
                    coroutine_context()->find('user')];
        }));
        $inner = Scope::inherit();
        $inner->spawn(function () use (&$o) {
            current_context()->set('user', 'shadow');
            $o['inner'] = [current_context()->get('user'), current_context()->getLocal('user'),
                           request_context()->get('user')];
        });
        $inner->awaitCompletion(timeout(1000));
        $detached = new Scope();
        $detached->spawn(function () use (&$o) {
            $o['detached'] = [current_context()->find('user'), request_context(), root_context()->get('booted') === getmypid()];
        });
        $detached->awaitCompletion(timeout(1000));
        try { current_context()->set('user', 'again'); $o['set_twice'] = 'replaced'; }
        catch (Async\ContextException $e) { $o['set_twice'] = 'ContextException'; }
        current_context()->set('user', $id . '!', true);
        $o['replaced'] = current_context()->get('user');
        try { current_context()->get('missing'); } catch (Async\ContextException $e) { $o['missing'] = $e->getMessage(); }
        $o['find_missing'] = current_context()->find('missing');
        current_context()->unset('user');
        $o['unset'] = current_context()->has('user');
        try { current_context()->find(42); } catch (TypeError $e) { $o['bad_key'] = 'TypeError'; }
        $o['id'] = $id;
        break;
    case '/request-scope-cancel':   // the client goes: the request and all it spawned are cancelled
        $tag = $req->getQueryParams()['tag'] ?? 'x';
        $log = function ($what) use ($tag) { file_put_contents(sys_get_temp_dir() . "/ta_scope_$tag.log", "$what\n", FILE_APPEND); };
        $log('start');
        spawn(function () use ($log) {
            try { delay(5000); $log('child:not cancelled'); }
            catch (AsyncCancellation $e) { $log('child:' . $e->getMessage()); }
        });
        $scoped = Scope::inherit();     // held while the handler waits
        $scoped->spawn(function () use ($log) {
            try { delay(5000); $log('scoped:not cancelled'); }
            catch (AsyncCancellation $e) { $log('scoped:' . $e->getMessage()); }
        });
        $res->write("started\n");
        try { delay(5000); } catch (AsyncCancellation $e) { $log('handler:' . $e->getMessage()); }
        return;
    default:
        $res->setStatus(404);
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($o));
});
