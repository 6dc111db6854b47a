<?php
// Async\Coroutine's states, current_coroutine(), get_coroutines() (issue 11)
use FrankenPHP\HttpServer;

function ta_inner_wait() { Async\delay(30); }     // line 5

HttpServer::onRequest(function ($req, $res) {
    $out = [];
    $c = Async\spawn(function () { Async\delay(50); return 'r'; });
    $out['new'] = [$c->isStarted(), $c->isQueued(), $c->isRunning(), $c->isSuspended(), $c->isCompleted()];
    Async\delay(10);
    $out['waiting'] = [$c->isStarted(), $c->isQueued(), $c->isRunning(), $c->isSuspended(), $c->isCompleted()];
    $me = Async\current_coroutine();
    $out['me_running'] = $me->isRunning() && !$me->isSuspended() && !$me->isQueued();
    $out['me_same'] = $me === Async\current_coroutine();
    $ids = array_map(fn ($k) => $k->getId(), Async\get_coroutines());
    $out['listed'] = in_array($me->getId(), $ids, true) && in_array($c->getId(), $ids, true);
    $inner = Async\spawn(fn () => Async\current_coroutine()->getId());
    $out['inner_is_itself'] = Async\await($inner) === $inner->getId();
    Async\await($c);
    $out['done'] = [$c->isStarted(), $c->isQueued(), $c->isRunning(), $c->isSuspended(), $c->isCompleted()];
    $out['done_listed'] = in_array($c->getId(), array_map(fn ($k) => $k->getId(), Async\get_coroutines()), true);
    $d = Async\spawn(fn () => Async\delay(1000));
    Async\delay(5);
    $d->cancel();
    $out['cancel_requested'] = [$d->isCancellationRequested(), $d->isCompleted()];
    try { Async\await($d); } catch (Async\CancellationError $e) {}
    $out['cancelled'] = [$d->isCancellationRequested(), $d->isCompleted()];
    $w = Async\spawn(function () {
        Async\delay(30);        // the suspension point (line 30)
    });
    Async\delay(5);
    $out['spawn_at'] = $w->getSpawnFileAndLine();
    $out['spawn_loc'] = $w->getSpawnLocation();
    $out['suspend_at'] = $w->getSuspendFileAndLine();
    $out['request_spawn'] = $me->getSpawnFileAndLine();
    $log = [];
    $w->finally(function ($co) use (&$log, $w) { $log[] = 'first:' . ($co === $w ? 'same' : 'other') . ':' . ($co->isCompleted() ? 'done' : 'not'); });
    $w->finally(function () use (&$log) { $log[] = 'second'; });
    Async\await($w);
    $out['suspend_after'] = $w->getSuspendLocation();
    Async\delay(5);
    $out['finally'] = $log;
    $w->finally(function () use (&$log) { $log[] = 'late'; });
    $out['finally_late'] = $log;
    $x = Async\spawn(fn () => 1);
    $x->finally(function () { throw new RuntimeException('thrown-in-finally'); });
    Async\await($x);
    Async\delay(5);
    $plog = [];
    $p = Async\spawn(function () use (&$plog) {
        $v = Async\protect(function () use (&$plog) { Async\delay(40); $plog[] = 'protected part finished'; return 'v'; });
        $plog[] = "went on with $v";
    });
    Async\delay(10);
    $p->cancel();
    $plog[] = 'requested:' . ($p->isCancellationRequested() ? 'yes' : 'no');
    try { Async\await($p); } catch (Async\CancellationError $e) { $plog[] = 'then cancelled'; }
    $out['protect'] = $plog;
    $out['protect_plain'] = Async\protect(fn () => 'ret');
    $t = Async\spawn(function () { ta_inner_wait(); });
    Async\delay(5);
    $trace = $t->getTrace(DEBUG_BACKTRACE_IGNORE_ARGS);
    $out['trace'] = array_map(fn ($f) => ($f['class'] ?? '') . ($f['type'] ?? '') . $f['function'] . '@' . ($f['line'] ?? 0), $trace ?? []);
    $out['trace_limit'] = count($t->getTrace(0, 1) ?? []);
    Async\await($t);
    $out['trace_done'] = $t->getTrace();
    $out['boot'] = $GLOBALS['boot'];
    $res->write(json_encode($out));
});
Async\spawn(function () {});     // boot: nothing to check, but outside any coroutine:
try { Async\current_coroutine(); $GLOBALS['boot'] = 'no exception'; }
catch (Async\AsyncException $e) { $GLOBALS['boot'] = $e->getMessage(); }
