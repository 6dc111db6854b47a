<?php
// Async\Pool and its circuit breaker (issue 11).
use FrankenPHP\HttpServer;
use Async\{Pool, PoolException, ServiceUnavailableException, CircuitBreakerState, CircuitBreakerStrategy, TimeoutException};
use function Async\{spawn, await, await_all, delay, suspend};

HttpServer::onRequest(function ($req, $res) {
    $o = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/pool':
        $made = 0; $destroyed = [];
        $pool = new Pool(function () use (&$made) { delay(1); return 'conn' . (++$made); },
                         destructor: function ($c) use (&$destroyed) { $destroyed[] = $c; },
                         min: 1, max: 2);
        $o['start'] = [count($pool), $pool->idleCount(), $pool->activeCount(), $made];
        $a = $pool->acquire();
        $b = $pool->acquire();
        $o['two_out'] = [$a, $b, $pool->activeCount(), $pool->tryAcquire()];
        // a third waits until one comes back
        $t0 = hrtime(true);
        $waiter = spawn(fn () => $pool->acquire());
        spawn(function () use ($pool, $a) { delay(30); $pool->release($a); });
        $o['waited'] = [await($waiter), (hrtime(true) - $t0) / 1e6 >= 25];
        try { $pool->acquire(20); } catch (TimeoutException $e) { $o['timeout'] = get_class($e); }
        $pool->release($b);
        // beforeAcquire false: that one is destroyed and the next is tried
        $p2 = new Pool(fn () => new ArrayObject(['ok' => true]), beforeAcquire: fn ($r) => $r['ok'],
                       destructor: function ($r) use (&$destroyed) { $destroyed[] = 'bad'; }, max: 3);
        $r1 = $p2->acquire();
        $r1['ok'] = false;
        $p2->release($r1);
        $r2 = $p2->acquire();
        $o['before_acquire'] = [$r2 !== $r1, $r2['ok']];
        $p2->release($r2);
        // beforeRelease false: destroyed instead of kept
        $p3 = new Pool(fn () => 'x', beforeRelease: fn ($r) => false);
        $p3->release($p3->acquire());
        $o['before_release'] = [$p3->idleCount(), count($p3)];
        $pool->close();
        $o['closed'] = [$pool->isClosed(), $pool->idleCount()];
        try { $pool->acquire(); } catch (PoolException $e) { $o['acquire_closed'] = $e->getMessage(); }
        $o['destroyed'] = $destroyed;
        break;
    case '/fifo':
        // the idle resource handed out is the one idle longest
        $n = 0; $gone = [];
        $pool = new Pool(function () use (&$n) { return ++$n; },
                         destructor: function ($r) use (&$gone) { $gone[] = $r; }, min: 3, max: 5);
        $first = $pool->tryAcquire();
        $second = $pool->acquire();
        $pool->release($second);
        $pool->release($first);
        $o['order'] = [$first, $second];
        $o['next'] = [$pool->acquire(), $pool->acquire(), $pool->acquire()];
        foreach ($o['next'] as $r) $pool->release($r);
        $pool->close();
        $o['destroyed'] = $gone;
        break;
    case '/breaker':
        $pool = new Pool(fn () => 'r', max: 2);
        $o['state0'] = $pool->getState()->name;
        $pool->deactivate();
        try { $pool->acquire(); } catch (ServiceUnavailableException $e) { $o['inactive'] = $e->getMessage(); }
        $pool->activate();
        $o['active_again'] = $pool->acquire();
        $strategy = new class implements CircuitBreakerStrategy {
            public array $log = []; public int $failures = 0; public bool $recover = false;
            public function reportSuccess(mixed $source): void { $this->log[] = 'success'; }
            public function reportFailure(mixed $source, Throwable $error): void {
                $this->log[] = 'failure:' . $error->getMessage();
                if (++$this->failures >= 2) $source->deactivate();
            }
            public function shouldRecover(): bool { return $this->recover; }
        };
        $fail = true;
        $p = new Pool(function () use (&$fail) { if ($fail) throw new RuntimeException('down'); return 'up'; }, max: 5);
        $p->setCircuitBreakerStrategy($strategy);
        foreach ([1, 2] as $_) { try { $p->acquire(); } catch (RuntimeException $e) {} }
        $o['tripped'] = $p->getState() === CircuitBreakerState::INACTIVE;
        try { $p->acquire(); } catch (ServiceUnavailableException $e) { $o['refused'] = true; }
        $strategy->recover = true;
        $fail = false;
        $r = $p->acquire();
        $o['recovering'] = $p->getState()->name;
        $p->release($r);
        $o['recovered'] = $p->getState()->name;
        $o['log'] = $strategy->log;
        break;
    default:
        $res->setStatus(404);
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($o));
});
