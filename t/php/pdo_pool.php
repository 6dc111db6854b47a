<?php
// Worker for t/trueasync/76_pdo_pool.t: TrueAsync's PDO pool. Each pool
// facade is made once (by /setup, when the test's MariaDB port is known)
// and shared by every request of the thread.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

final class P
{
    /** @var array<string, PDO> */
    public static array $pools = [];
    public static ?PDO $admin = null;
    public static array $arrived = [];
    /** @var array<string, int> the most connections out at once, per pool */
    public static array $maxActive = [];
}

function setup(int $port, string $sqlite): array
{
    $dsn = "mysql:host=127.0.0.1;port=$port";
    $opts = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_POOL_ENABLED => true];
    P::$admin = new PDO($dsn, 'root', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    P::$admin->exec('CREATE DATABASE IF NOT EXISTS ta');
    P::$admin->exec('CREATE TABLE IF NOT EXISTS ta.p (id INT) ENGINE=InnoDB');
    P::$admin->exec('DELETE FROM ta.p');
    P::$pools['big'] = new PDO($dsn, 'root', '', $opts + [PDO::ATTR_POOL_MAX => 30]);
    P::$pools['small'] = new PDO($dsn, 'root', '', $opts + [PDO::ATTR_POOL_MAX => 2]);
    P::$pools['plain'] = new PDO($dsn, 'root', '', $opts + [PDO::ATTR_POOL_MAX => 3]);
    P::$pools['hc'] = new PDO($dsn, 'root', '', $opts + [PDO::ATTR_POOL_MAX => 3, PDO::ATTR_POOL_HEALTHCHECK_INTERVAL => 1]);
    @unlink($sqlite);
    P::$pools['sqlite'] = new PDO("sqlite:$sqlite", null, null, $opts + [PDO::ATTR_POOL_MAX => 4]);
    P::$pools['sqlite']->exec('CREATE TABLE t (id INTEGER)');
    return ['ok' => true];
}

function together(array $q): void
{
    if (($n = (int) ($q['together'] ?? 0)) <= 0) return;
    $b = (string) ($q['batch'] ?? '');
    P::$arrived[$b] = (P::$arrived[$b] ?? 0) + 1;
    $deadline = microtime(true) + 3;
    while (P::$arrived[$b] < $n && microtime(true) < $deadline) Async\delay(5);
}

function query(PDO $db, string $name, int $id, float $sleep): array
{
    $st = $db->prepare("SELECT SLEEP($sleep) AS s, ? AS id, CONNECTION_ID() AS conn");
    $st->execute([$id]);
    $row = $st->fetch(PDO::FETCH_ASSOC);
    // the statement is alive: the connection is still this coroutine's
    P::$maxActive[$name] = max(P::$maxActive[$name] ?? 0, $db->getPool()->activeCount());
    return ['id' => (int) $row['id'], 'conn' => (int) $row['conn']];
}

function txn(PDO $db, int $id, bool $finish = true): array
{
    $db->beginTransaction();
    $db->prepare('INSERT INTO ta.p VALUES (?)')->execute([$id]);
    $db->query('SELECT SLEEP(0.05)')->fetchAll();
    if (!$finish) return ['open' => true];
    $id % 2 ? $db->rollBack() : $db->commit();
    return ['done' => $id];
}

// SQLite: a writer holds an uncommitted row for 300 ms; a reader on its
// own connection neither sees it nor waits for it.
function sqlite(PDO $db, string $role): array
{
    $t0 = microtime(true);
    if ($role === 'writer') {
        $db->beginTransaction();
        $db->exec('INSERT INTO t VALUES (1)');
        Async\delay(300);
        $db->rollBack();
        return ['secs' => microtime(true) - $t0];
    }
    $n = (int) $db->query('SELECT COUNT(*) FROM t')->fetchColumn();
    return ['count' => $n, 'secs' => microtime(true) - $t0];
}

function stats(PDO $db): array
{
    $p = $db->getPool();
    return ['count' => $p->count(), 'idle' => $p->idleCount(), 'active' => $p->activeCount()];
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $id = (int) ($q['id'] ?? 0);
    $db = P::$pools[$q['pool'] ?? 'big'] ?? null;
    $res->setHeader('Content-Type', 'application/json');
    try {
        together($q);
        $t0 = microtime(true);
        $out = match (parse_url($req->getUri(), PHP_URL_PATH)) {
            '/setup' => setup((int) $q['port'], (string) $q['sqlite']),
            '/api' => [
                'consts' => [PDO::ATTR_POOL_ENABLED, PDO::ATTR_POOL_MIN, PDO::ATTR_POOL_MAX, PDO::ATTR_POOL_HEALTHCHECK_INTERVAL],
                'plain' => P::$admin->getPool(),
                'facade' => get_class($db->getPool()),
            ],
            '/q' => query($db, $q['pool'] ?? 'big', $id, (float) ($q['sleep'] ?? 0.2)),
            '/txn' => txn($db, $id),
            '/open' => txn($db, $id, false),
            '/ids' => ['ids' => array_map('intval', P::$admin->query('SELECT id FROM ta.p ORDER BY id')->fetchAll(PDO::FETCH_COLUMN))],
            '/conn' => ['conn' => (int) $db->query('SELECT CONNECTION_ID()')->fetchColumn()],
            '/kill' => ['killed' => P::$admin->exec('KILL ' . $id) !== false],
            '/stats' => stats($db) + ['max_active' => P::$maxActive[$q['pool'] ?? 'big'] ?? 0],
            '/sqlite' => sqlite($db, (string) $q['role']),
            default => ['error' => 'no such path'],
        };
        $out['start'] = $t0;
        $out['end'] = microtime(true);
    } catch (Throwable $e) {
        $out = ['error' => get_class($e) . ': ' . $e->getMessage()];
    }
    $res->write(json_encode($out));
});
