<?php
// Async\TaskGroup and Async\TaskSet (issue 11).
use FrankenPHP\HttpServer;
use Async\{TaskGroup, TaskSet, CompositeException, AsyncCancellation, Scope};
use function Async\{spawn, await, delay, suspend, timeout};

function job(int $ms, $v) { return function () use ($ms, $v) { delay($ms); if ($v instanceof Throwable) throw $v; return $v; }; }

HttpServer::onRequest(function ($req, $res) {
    $o = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/group':
        $g = new TaskGroup();
        $g->spawn(job(30, 'a'));
        $g->spawnWithKey('k', job(10, 'b'));
        $g->spawn(fn ($x, $y) => $x . $y, 'c', 'd');
        $o['count'] = count($g);
        $o['all'] = await($g->all());
        $o['results'] = $g->getResults();
        $o['finished'] = $g->isFinished();
        $g2 = new TaskGroup();
        $g2->spawn(job(5, new RuntimeException('e1')));
        $g2->spawnWithKey('ok', job(1, 'fine'));
        try { await($g2->all()); } catch (CompositeException $e) {
            $o['composite'] = array_map(fn ($x) => $x->getMessage(), $e->getExceptions());
        }
        $o['ignored'] = await($g2->all(true));
        $o['errors'] = array_map(fn ($x) => $x->getMessage(), $g2->getErrors());
        try { $g2->spawnWithKey('ok', fn () => 1); } catch (Async\AsyncException $e) { $o['dup'] = $e->getMessage(); }
        $r = new TaskGroup();
        $r->spawn(job(40, 'slow'));
        $r->spawn(job(10, new LogicException('fast failure')));
        $r->spawn(job(20, 'second'));
        try { await($r->race()); } catch (LogicException $e) { $o['race'] = $e->getMessage(); }
        $o['any'] = await($r->any());
        break;
    case '/limit':              // at most 2 at once; spawn() waits when the queue is full
        $g = new TaskGroup(2, 1);
        $now = 0; $peak = 0; $log = [];
        for ($i = 0; $i < 6; $i++) {
            $g->spawn(function () use ($i, &$now, &$peak) { $now++; $peak = max($peak, $now); delay(10); $now--; return $i; });
            $log[] = "spawned $i";
        }
        $g->close();
        $g->awaitCompletion();
        $o['peak'] = $peak;
        $o['results'] = $g->getResults();
        try { $g->spawn(fn () => 1); } catch (Async\AsyncException $e) { $o['closed'] = $e->getMessage(); }
        $u = new TaskGroup();
        try { $u->awaitCompletion(); } catch (Async\AsyncException $e) { $o['not_closed'] = $e->getMessage(); }
        break;
    case '/iterate':
        $g = new TaskGroup();
        $g->spawnWithKey('late', job(30, 'L'));
        $g->spawnWithKey('early', job(5, 'E'));
        $g->spawnWithKey('bad', job(15, new RuntimeException('boom')));
        spawn(function () use ($g) { delay(50); $g->close(); });
        foreach ($g as $k => [$result, $error]) $o['seen'][] = $k . '=' . ($error ? 'error:' . $error->getMessage() : $result);
        break;
    case '/cancel':
        $g = new TaskGroup(1);
        $log = [];
        $g->spawn(function () use (&$log) { try { delay(1000); } catch (AsyncCancellation $e) { $log[] = 'running cancelled'; throw $e; } });
        $g->spawn(function () use (&$log) { $log[] = 'queued ran'; });
        suspend();
        $g->finally(function (TaskGroup $x) use (&$log, $g) { $log[] = 'finally ' . ($x === $g ? 'same' : 'other'); });
        $g->cancel();
        delay(10);
        $o['log'] = $log;
        $o['state'] = [$g->isClosed(), $g->isFinished()];
        break;
    case '/dispose':            // php-async: running tasks cancelled, the group stays open, queued ones still run
        $g = new TaskGroup(1);
        $log = [];
        $g->spawnWithKey('run', function () use (&$log) { try { delay(1000); } catch (AsyncCancellation $e) { $log[] = 'running cancelled'; throw $e; } });
        $g->spawnWithKey('q1', function () use (&$log) { $log[] = 'q1 ran'; return 1; });
        $g->spawnWithKey('q2', function () use (&$log) { delay(5); $log[] = 'q2 ran'; return 2; });
        suspend();
        $g->dispose();
        $o['closed'] = $g->isClosed();
        $g->spawnWithKey('late', function () use (&$log) { $log[] = 'late ran'; return 3; });
        $g->close();
        $g->awaitCompletion();
        $o['log'] = $log;
        $o['results'] = $g->getResults();
        $o['error'] = array_map(fn ($e) => get_class($e) . ': ' . $e->getMessage(), $g->getErrors());
        break;
    case '/set':
        $s = new TaskSet();
        $s->spawn(job(20, 'two'));
        $s->spawn(job(5, 'one'));
        $s->spawnWithKey('x', job(10, new RuntimeException('bad')));
        $o['next1'] = await($s->joinNext());
        try { await($s->joinNext()); } catch (RuntimeException $e) { $o['next2'] = $e->getMessage(); }
        $o['count_after'] = count($s);
        $o['next3'] = await($s->joinNext());
        $o['count_end'] = count($s);
        $s->spawn(job(5, 'p'));
        $s->spawn(job(10, 'q'));
        $o['all'] = await($s->joinAll());
        $o['count_all'] = count($s);
        break;
    default:
        $res->setStatus(404);
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($o));
});
