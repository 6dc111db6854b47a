<?php
// Worker for t/trueasync/75_shared_db.t: ONE PDO (pdo_mysql), ONE mysqli
// and ONE PDO (pdo_sqlite) made once and kept by the worker, shared by
// every request of the thread, as a container's services are. They are
// made by /setup (the test's MariaDB port is known only then), as a lazy
// container would, and never again.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

final class Db
{
    public static ?PDO $pdo = null;
    public static ?mysqli $mysqli = null;
    public static ?PDO $sqlite = null;
    public static array $arrived = [];
}

function setup(int $port, string $sqlite): array
{
    Db::$pdo = new PDO("mysql:host=127.0.0.1;port=$port", 'root', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    Db::$pdo->exec('CREATE DATABASE IF NOT EXISTS ta');
    Db::$pdo->exec('CREATE TABLE IF NOT EXISTS ta.t (api VARCHAR(16), id INT) ENGINE=InnoDB');
    Db::$pdo->exec('DELETE FROM ta.t');
    mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
    Db::$mysqli = new mysqli('127.0.0.1', 'root', '', 'ta', $port);
    @unlink($sqlite);
    Db::$sqlite = new PDO("sqlite:$sqlite", null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    Db::$sqlite->exec('CREATE TABLE t (api TEXT, id INTEGER)');
    return ['ok' => true];
}

// ?together=N: wait (up to 3 s) until N requests of the batch arrived, so
// they all reach the shared handle at once.
function together(array $q): void
{
    if (($n = (int) ($q['together'] ?? 0)) <= 0) return;
    $b = (string) ($q['batch'] ?? '');
    Db::$arrived[$b] = (Db::$arrived[$b] ?? 0) + 1;
    $deadline = microtime(true) + 3;
    while (Db::$arrived[$b] < $n && microtime(true) < $deadline) Async\delay(5);
}

function select(string $api, int $id): array
{
    if ($api === 'pdo') {
        $st = Db::$pdo->prepare('SELECT SLEEP(0.2) AS s, ? AS id');
        $st->execute([$id]);
        $row = $st->fetch(PDO::FETCH_ASSOC);
    } elseif ($id % 2) {
        $r = mysqli_query(Db::$mysqli, "SELECT SLEEP(0.2) AS s, $id AS id");     // procedural
        $row = mysqli_fetch_assoc($r);
    } else {
        $row = Db::$mysqli->query("SELECT SLEEP(0.2) AS s, $id AS id")->fetch_assoc();
    }
    return ['id' => (int) $row['id']];
}

// Insert, wait, then commit the even ids and roll back the odd ones.
function txn(string $api, int $id, bool $finish = true): array
{
    switch ($api) {
    case 'pdo':
    case 'pdoraw':
    case 'sqlite':
        $db = $api === 'sqlite' ? Db::$sqlite : Db::$pdo;
        $table = $api === 'sqlite' ? 't' : 'ta.t';
        $api === 'pdoraw' ? $db->exec('START TRANSACTION') : $db->beginTransaction();
        $db->prepare("INSERT INTO $table VALUES (?, ?)")->execute([$api, $id]);
        if ($api === 'sqlite') Async\delay(50); else $db->query('SELECT SLEEP(0.05)')->fetchAll();
        if (!$finish) return ['open' => true];
        if ($api === 'pdoraw') $db->exec($id % 2 ? 'ROLLBACK' : 'COMMIT');
        else $id % 2 ? $db->rollBack() : $db->commit();
        break;
    case 'mysqli':
        $m = Db::$mysqli;
        $m->begin_transaction();
        mysqli_query($m, "INSERT INTO ta.t VALUES ('mysqli', $id)");
        $m->query('SELECT SLEEP(0.05)')->fetch_all();
        if (!$finish) return ['open' => true];
        $id % 2 ? mysqli_rollback($m) : $m->commit();
        break;
    }
    return ['done' => $id];
}

// Holds the shared PDO in a transaction for 1.5 s.
function hold(): array
{
    Db::$pdo->beginTransaction();
    Db::$pdo->query('SELECT SLEEP(1.5)')->fetchAll();
    Db::$pdo->commit();
    return ['held' => true];
}

function ids(string $api): array
{
    $db = $api === 'sqlite' ? Db::$sqlite : Db::$pdo;
    $st = $db->prepare(($api === 'sqlite' ? 'SELECT id FROM t' : 'SELECT id FROM ta.t') . ' WHERE api = ? ORDER BY id');
    $st->execute([$api]);
    return array_map('intval', $st->fetchAll(PDO::FETCH_COLUMN));
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $id = (int) ($q['id'] ?? 0);
    $api = (string) ($q['api'] ?? 'pdo');
    $res->setHeader('Content-Type', 'application/json');
    try {
        together($q);
        $path = preg_replace('{^/short}', '', parse_url($req->getUri(), PHP_URL_PATH));
        $out = match ($path) {
            '/setup' => setup((int) $q['port'], (string) $q['sqlite']),
            '/select' => select($api, $id),
            '/txn' => txn($api, $id),
            '/open' => txn($api, $id, false),       // ends with its transaction open
            '/ids' => ['ids' => ids($api)],
            '/hold' => hold(),
            default => ['error' => 'no such path'],
        };
    } catch (Throwable $e) {
        $out = ['error' => get_class($e) . ': ' . $e->getMessage()];
    }
    $res->write(json_encode($out));
});
