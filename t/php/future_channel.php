<?php
// Async\Future / FutureState and the Channel additions (issue 11): map,
// catch, finally, await with a token, completed/failed; foreach over a
// channel, send/recv with cancellation tokens, sendAsync/recvAsync,
// isEmpty/isFull, the deadlock timeouts and ChannelCloseReason.
use FrankenPHP\HttpServer;
use Async\{Future, FutureState, Channel, ChannelException, ChannelCloseReason, OperationCanceledException, AsyncCancellation};
use function Async\{spawn, await, delay, suspend, timeout, await_all};

function later(int $ms, callable $f) { spawn(function () use ($ms, $f) { delay($ms); $f(); }); }

HttpServer::onRequest(function ($req, $res) {
    $o = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/future':
        $line = __LINE__; $state = new FutureState();
        $f = new Future($state);
        $o['fresh'] = [$f->isCompleted(), $state->isCompleted()];
        later(20, fn () => $state->complete(20));
        $o['await'] = await($f);
        $o['method_await'] = $f->await();
        $o['done'] = [$f->isCompleted(), $state->isCompleted(), $f->isCancelled()];
        try { $state->complete(1); $o['twice'] = 'completed again'; }
        catch (Async\AsyncException $e) { $o['twice'] = $e->getMessage(); }
        $o['map'] = await($f->map(fn ($v) => $v + 1)->map(fn ($v) => $v * 2));
        $o['completed'] = Future::completed('ready')->await();
        $o['completed_null'] = Future::completed()->await();
        try { Future::failed(new RuntimeException('bad'))->await(); }
        catch (RuntimeException $e) { $o['failed'] = $e->getMessage(); }
        $o['map_of_failure'] = await(Future::failed(new LogicException('kept'))->map(fn ($v) => 'never')
                                      ->catch(fn (Throwable $e) => 'caught ' . $e->getMessage()));
        $o['catch_of_success'] = await(Future::completed(5)->catch(fn () => 'never'));
        $log = [];
        $o['finally'] = await(Future::completed('v')->finally(function () use (&$log) { $log[] = 'finally ran'; }));
        try { await(Future::failed(new DomainException('through'))->finally(function () use (&$log) { $log[] = 'finally on failure'; })); }
        catch (DomainException $e) { $log[] = 'rethrown ' . $e->getMessage(); }
        $o['finally_log'] = $log;
        try { await(Future::completed(1)->map(function () { throw new UnexpectedValueException('in map'); })); }
        catch (UnexpectedValueException $e) { $o['map_throws'] = $e->getMessage(); }
        $pending = new FutureState();
        try { (new Future($pending))->await(timeout(20)); }
        catch (OperationCanceledException $e) { $o['token'] = get_class($e->getPrevious()); }
        $cf = new Future(new FutureState());
        $cf->cancel();
        try { await($cf); } catch (AsyncCancellation $e) { $o['cancelled'] = [$cf->isCancelled(), $cf->isCompleted(), get_class($e)]; }
        [$results] = await_all(['a' => Future::completed(1), 'b' => spawn(fn () => 2)]);
        $o['await_all'] = $results;
        $o['location'] = $state->getCreatedLocation() === __FILE__ . ":$line" ? 'ok' : $state->getCreatedLocation();
        $o['completed_at'] = $f->getCompletedFileAndLine()[0] === __FILE__;
        break;
    case '/future-details':         // php-async's future tests 031, 033, 034, in our words
        $states = [];
        foreach (['pending' => null, 'value' => 42, 'error' => new RuntimeException('boom'),
                  'cancellation' => new AsyncCancellation('stop')] as $name => $outcome) {
            $st = new FutureState();
            $fu = new Future($st);
            if ($outcome instanceof Throwable) $st->error($outcome);
            elseif ($outcome !== null) $st->complete($outcome);
            $states[$name] = [$fu->isCompleted(), $fu->isCancelled()];
            $fu->ignore();
        }
        $o['states'] = $states;
        $st = new FutureState();
        $fu = new Future($st);
        $o['info_pending'] = [$fu->getAwaitingInfo(), $st->getAwaitingInfo()];
        $waiter = spawn(fn () => await($fu));
        suspend();
        $o['info_awaited'] = $fu->getAwaitingInfo();
        $first = __LINE__; $st->complete(7);
        $o['info_done'] = [$fu->getAwaitingInfo(), $st->getAwaitingInfo()];
        await($waiter);
        $again = [];
        try { $st->complete(8); } catch (Async\AsyncException $e) { $again[] = $e->getMessage(); }
        try { $st->error(new LogicException('late')); } catch (Async\AsyncException $e) { $again[] = $e->getMessage(); }
        $failed = new FutureState();
        (new Future($failed))->ignore();
        $errLine = __LINE__; $failed->error(new LogicException('first'));
        try { $failed->complete(1); } catch (Async\AsyncException $e) { $again[] = $e->getMessage(); }
        $o['again'] = $again;
        $o['expected_again'] = ['FutureState is already completed at ' . __FILE__ . ":$first",
                                'FutureState is already completed at ' . __FILE__ . ":$first",
                                'FutureState is already completed at ' . __FILE__ . ":$errLine"];
        break;
    case '/channel-foreach':
        $ch = new Channel(2);
        spawn(function () use ($ch) { foreach ([1, 2, 3, 4] as $v) $ch->send($v); $ch->close(); });
        $got = [];
        foreach ($ch as $k => $v) $got[] = "$k=$v";
        $o['foreach'] = $got;
        $o['iterator'] = $ch->getIterator() instanceof Iterator;
        $o['traversable'] = [$ch instanceof IteratorAggregate, $ch instanceof Async\Awaitable];
        break;
    case '/channel-token':
        $ch = new Channel();
        $t0 = hrtime(true);
        try { $ch->recv(timeout(30)); $o['recv'] = 'got'; }
        catch (OperationCanceledException $e) { $o['recv'] = [get_class($e), get_class($e->getPrevious())]; }
        $o['ms'] = (hrtime(true) - $t0) / 1e6;
        try { $ch->send('x', timeout(20)); $o['send'] = 'sent'; }
        catch (OperationCanceledException $e) { $o['send'] = get_class($e); }
        // a value before the token trips wins
        later(5, fn () => $ch->send('in time'));
        $o['in_time'] = $ch->recv(timeout(1000));
        $o['not_closed'] = $ch->isClosed();
        break;
    case '/channel-async':
        $ch = new Channel(1);
        $o['state0'] = [$ch->isEmpty(), $ch->isFull()];
        $o['send1'] = $ch->sendAsync('a');
        $o['state1'] = [$ch->isEmpty(), $ch->isFull()];
        $o['send2'] = $ch->sendAsync('b');       // full: refused, not waiting
        $o['recv_ready'] = $ch->recvAsync()->await();
        $f = $ch->recvAsync();                   // nothing there yet: completed later
        $o['pending'] = $f->isCompleted();
        later(10, fn () => $ch->send('later'));
        $o['recv_later'] = await($f);
        $ch->close();
        $o['send_closed'] = $ch->sendAsync('c');
        try { $ch->recvAsync()->await(); } catch (ChannelException $e) { $o['recv_closed'] = [$e->getMessage(), $e->reason->name]; }
        break;
    case '/channel-deadlock':
        $ch = new Channel(0, 40);                // no producer for 40 ms closes it
        $t0 = hrtime(true);
        try { $ch->recv(); $o['recv'] = 'got'; }
        catch (ChannelException $e) { $o['recv'] = [$e->reason, $e->reason->value]; }
        $o['ms'] = (hrtime(true) - $t0) / 1e6;
        $o['closed'] = $ch->isClosed();
        $ch2 = new Channel(0, 0, 40);            // no consumer for 40 ms
        try { $ch2->send(1); } catch (ChannelException $e) { $o['send'] = $e->reason->name; }
        $ch3 = new Channel(0, 100);              // producers keep coming: stays open
        spawn(function () use ($ch3) { for ($i = 0; $i < 5; $i++) { delay(40); $ch3->send($i); } $ch3->close(); });
        $n = 0;
        foreach ($ch3 as $v) $n++;
        $o['steady'] = $n;
        $ch4 = new Channel();
        $ch4->close();
        try { $ch4->recv(); } catch (ChannelException $e) { $o['explicit'] = $e->reason === ChannelCloseReason::EXPLICIT; }
        break;
    default:
        $res->setStatus(404);
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($o));
});
