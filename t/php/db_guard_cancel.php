<?php
// Worker for t/trueasync/95_db_guard_cancel.t (ONE PHP thread): coroutines
// that wait for a PDO held by another are cancelled together with the
// holder, as a client that goes away (wrk at the end of a run) cancels
// every request it had in flight.
//   /race?port=P&rounds=N&waiters=K  per round: a fresh PDO; one coroutine
//       holds it in SELECT SLEEP(5), K more wait for it; the holder is
//       cancelled first, then the waiters. Reports, per round, how each
//       ended and whether the PDO the worker still holds is alive.
//   /setup?port=P  (re)makes the PDO shared by the requests of /sleep
//   /sleep         SELECT SLEEP(1) on that shared PDO
//   /ping          the child's pid and a query on a new connection
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

final class Shared
{
    public static ?PDO $pdo = null;
}

function connect(int $port): PDO
{
    return new PDO("mysql:host=127.0.0.1;port=$port", 'root', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
}

function outcome(Async\Coroutine $co): string
{
    try {
        Async\await($co);
        return 'done';
    } catch (Throwable $e) {
        return $e instanceof Async\CancellationError ? 'cancelled' : get_class($e) . ': ' . $e->getMessage();
    }
}

function race(int $port, int $waiters): array
{
    $db = connect($port);
    $alive = WeakReference::create($db);
    $holder = Async\spawn(fn () => $db->query('SELECT SLEEP(5)')->fetchAll());
    Async\delay(50);                // it holds the handle, its query sent
    $queue = [];
    for ($i = 0; $i < $waiters; $i++) $queue[] = Async\spawn(fn () => $db->query('SELECT 1')->fetchColumn());
    Async\delay(20);                // they wait for the handle
    $holder->cancel();
    foreach ($queue as $co) $co->cancel();
    $out = ['holder' => outcome($holder), 'waiters' => array_map('outcome', $queue)];
    unset($holder, $queue);
    // the worker still holds $db: it must still be there
    $out['alive'] = $alive->get() === $db;
    return $out;
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $port = (int) ($q['port'] ?? 0);
    $res->setHeader('Content-Type', 'application/json');
    try {
        switch (parse_url($req->getUri(), PHP_URL_PATH)) {
        case '/race':
            $out = [];
            for ($r = 0; $r < (int) ($q['rounds'] ?? 1); $r++) $out[] = race($port, (int) ($q['waiters'] ?? 1));
            break;
        case '/setup':
            Shared::$pdo = connect($port);
            $out = ['ok' => true];
            break;
        case '/sleep':
            $out = ['slept' => (int) Shared::$pdo->query('SELECT SLEEP(1)')->fetchColumn()];
            break;
        case '/ping':
            $out = ['pid' => getmypid(), 'one' => (int) connect($port)->query('SELECT 1')->fetchColumn()];
            break;
        default:
            $out = ['error' => 'no such path'];
        }
    } catch (Throwable $e) {
        $out = ['error' => get_class($e) . ': ' . $e->getMessage()];
    }
    $res->write(json_encode($out));
});
