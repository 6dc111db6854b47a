<?php
// Worker for t/trueasync/83_pgsql.t (one PHP thread): pgsql and pdo_pgsql
// inside coroutines. ?port= names the test's PostgreSQL server.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

require __DIR__ . '/inc/pg_ops.php';
require __DIR__ . '/inc/together.php';


// BEGIN, the row, a pause, what the transaction sees, ROLLBACK (unless
// $end is false: the request ends with the transaction open).
function shared_pg_txn(int $id, bool $end): array
{
    $c = $GLOBALS['shared_pg'];
    pg_query($c, 'BEGIN');
    pg_query_params($c, 'INSERT INTO ta_shared VALUES ($1)', [$id]);
    pg_query($c, 'SELECT pg_sleep(0.01)');
    $row = pg_fetch_row(pg_query($c, 'SELECT count(*), max(id) FROM ta_shared'));
    if ($end) pg_query($c, 'ROLLBACK');
    return ['seen' => (int) $row[0], 'mine' => (int) $row[1]];
}

function shared_pdo_txn(int $id, bool $end): array
{
    $db = $GLOBALS['shared_pdo'];
    $db->beginTransaction();
    $db->prepare('INSERT INTO ta_shared VALUES (?)')->execute([$id]);
    $db->query('SELECT pg_sleep(0.01)');
    $row = $db->query('SELECT count(*), max(id) FROM ta_shared')->fetch(PDO::FETCH_NUM);
    if ($end) $db->rollBack();
    return ['seen' => (int) $row[0], 'mine' => (int) $row[1]];
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $port = (int) ($q['port'] ?? 0);
    $id = (int) ($q['id'] ?? 0);
    $tag = preg_replace('/[^a-z0-9_]/', '', (string) ($q['tag'] ?? ''));
    $out = [];
    $t0 = microtime(true);
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/pg':
        $c = pg_connect(pg_conninfo($port), PGSQL_CONNECT_FORCE_NEW);
        $t0 = together($q);
        $row = pg_fetch_assoc(pg_query_params($c, 'SELECT pg_sleep(0.3) AS s, $1::int AS id', [$id]));
        $out = ['id' => (int) $row['id']];
        pg_close($c);
        break;
    case '/pdo':
        $db = new PDO(pg_dsn($port), 'postgres', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        $t0 = together($q);
        $st = $db->prepare('SELECT pg_sleep(0.3) AS s, ?::int AS id');
        $st->execute([$id]);
        $out = ['id' => (int) $st->fetch(PDO::FETCH_ASSOC)['id']];
        break;
    case '/ops':
        $out = ['ops' => pg_ops($port)];
        break;
    case '/cancel':
        // a query of 30 s in a coroutine cancelled after 0.3 s; then the
        // same connection again
        $pdo = ($q['api'] ?? '') === 'pdo';
        $c = $pdo ? new PDO(pg_dsn($port), 'postgres', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION])
                  : pg_connect(pg_conninfo($port), PGSQL_CONNECT_FORCE_NEW);
        $sql = "SELECT pg_sleep(30) AS $tag";
        $co = Async\spawn(fn () => $pdo ? $c->query($sql) : @pg_query($c, $sql));
        Async\delay(300);
        $co->cancel();
        try {
            Async\await($co);
            $out['outcome'] = 'completed';
        } catch (\Throwable $e) {
            $out['outcome'] = get_class($e);
        }
        $out['cancel_ms'] = (int) ((microtime(true) - $t0) * 1000);
        $out['usable'] = (int) ($pdo ? $c->query('SELECT 7')->fetchColumn() : pg_fetch_result(pg_query($c, 'SELECT 7'), 0, 0));
        break;
    case '/timeout':
        // TrueAsyncRequestTimeout 1 here: the request is timed out mid-query
        $c = pg_connect(pg_conninfo($port), PGSQL_CONNECT_FORCE_NEW);
        pg_query($c, "SELECT pg_sleep(30) AS $tag");
        $out['finished'] = true;
        break;
    case '/shared_init':
        // one connection per API for all later /shared requests, as an app
        // makes at boot; each with a table of its session
        $GLOBALS['shared_pg'] = pg_connect(pg_conninfo($port), PGSQL_CONNECT_FORCE_NEW);
        pg_query($GLOBALS['shared_pg'], 'CREATE TEMP TABLE ta_shared (id int)');
        $GLOBALS['shared_pdo'] = new PDO(pg_dsn($port), 'postgres', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        $GLOBALS['shared_pdo']->exec('CREATE TEMP TABLE ta_shared (id int)');
        break;
    case '/shared':
        // a transaction on the shared connection: inside it, only its own row
        $t0 = together($q);
        $out = ['id' => $id] + (($q['api'] ?? '') === 'pdo' ? shared_pdo_txn($id, empty($q['open'])) : shared_pg_txn($id, empty($q['open'])));
        break;
    case '/pool':
        // TrueAsync's PDO pool over pdo_pgsql: one facade for the thread,
        // each coroutine a connection of its own
        $GLOBALS['pg_pool'] ??= new PDO(pg_dsn($port), 'postgres', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_POOL_ENABLED => true, PDO::ATTR_POOL_MAX => 40]);
        $db = $GLOBALS['pg_pool'];
        $t0 = together($q);
        $st = $db->prepare('SELECT pg_sleep(0.3), ?::int AS id, pg_backend_pid() AS pid');
        $st->execute([$id]);
        $row = $st->fetch(PDO::FETCH_ASSOC);
        $out = ['id' => (int) $row['id'], 'pid' => (int) $row['pid'], 'pool' => $db->getPool()->count()];
        break;
    case '/shared_one':
        // one query on the shared link, outside any transaction
        $r = @pg_query($GLOBALS['shared_pg'], sprintf('SELECT pg_sleep(%F), %d AS id', (float) ($q['secs'] ?? 0), $id));
        $out['got'] = $r ? (int) pg_fetch_result($r, 0, 1) : null;
        $out['warning'] = error_get_last()['message'] ?? '';
        break;
    case '/nap':
        Async\delay(50);
        break;
    }
    $out['start'] = $t0;
    $out['end'] = microtime(true);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
