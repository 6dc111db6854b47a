<?php
// Worker for t/trueasync/96_shared_db_cancel.t (ONE PHP thread): a PDO
// (pdo_mysql), one with unbuffered queries, a mysqli, a pgsql link and a
// PDO (pdo_pgsql) made when the worker boots, shared by every request of the thread, whose holder is
// cancelled in the middle of a query (its client hangs up, or
// TrueAsyncRequestTimeout).
// The test's servers' ports are known only once the test runs:
// /reboot?port=P&pgport=Q&proxyport=R keeps them in a file and boots the
// script afresh (Async\graceful_shutdown), and the boot code connects to
// them; R is a proxy to MariaDB that takes one connection only (the
// 'proxied' PDO's: a second one, for a KILL QUERY, is refused).
//   /state                 what boot made, the holders' records, live coroutines
//   /hold?api=&secs=&tag=  SELECT SLEEP(secs) (pg_sleep) on the boot handle
//                          (api: pdo, unbuf, mysqli, pg, pgpdo, proxied); its
//                          record says how the query call ended, and when
//   /use?api=&id=          SELECT id on the boot handle
//   /connid?api=           the boot handle's CONNECTION_ID() on the server
//   /local?port=&secs=&tag= the same SLEEP on a PDO made by the request
//   /connect?port=&tag=    new PDO to a server that never answers
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

final class Boot
{
    public static ?PDO $pdo = null;
    public static ?PDO $unbuf = null;
    public static ?mysqli $mysqli = null;
    /** @var resource|PgSql\Connection|null */
    public static $pg = null;
    public static ?PDO $pgpdo = null;
    public static ?PDO $proxied = null;
    public static array $made = [];
    /** tag => [start, end, how the call ended] */
    public static array $rec = [];
}

function port_file(): string
{
    return sys_get_temp_dir() . '/ta-shared-db-cancel-' . md5(__DIR__) . '.port';
}

function pdo_to(int $port, bool $buffered = true): PDO
{
    return new PDO("mysql:host=127.0.0.1;port=$port", 'root', '', [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 5,
        PDO::MYSQL_ATTR_USE_BUFFERED_QUERY => $buffered,
    ]);
}

// At boot, outside any request: the handles every request shares.
[$bootPort, $pgPort, $proxyPort] = array_map('intval', explode(' ', (string) @file_get_contents(port_file())) + [0, 0, 0]);
if ($bootPort > 0) {
    try {
        Boot::$pdo = pdo_to($bootPort);
        Boot::$made[] = 'pdo';
        Boot::$unbuf = pdo_to($bootPort, false);
        Boot::$made[] = 'unbuf';
        mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
        Boot::$mysqli = new mysqli('127.0.0.1', 'root', '', '', $bootPort);
        Boot::$made[] = 'mysqli';
        Boot::$pg = pg_connect("host=127.0.0.1 port=$pgPort user=postgres dbname=postgres", PGSQL_CONNECT_FORCE_NEW);
        Boot::$made[] = 'pg';
        Boot::$pgpdo = new PDO("pgsql:host=127.0.0.1;port=$pgPort;dbname=postgres", 'postgres', '',
                               [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        Boot::$made[] = 'pgpdo';
        if ($proxyPort > 0) {
            Boot::$proxied = pdo_to($proxyPort);
            Boot::$made[] = 'proxied';
        }
    } catch (Throwable $e) {
        Boot::$made[] = 'error: ' . $e->getMessage();
    }
}

function sleep_on(string $api, float $secs): string
{
    $sql = sprintf('SELECT SLEEP(%.3F)', $secs);
    $pgsql = sprintf('SELECT pg_sleep(%.3F)', $secs);
    switch ($api) {
    case 'mysqli': return (string) Boot::$mysqli->query($sql)->fetch_row()[0];
    case 'pg': return (string) pg_fetch_row(pg_query(Boot::$pg, $pgsql))[0];
    case 'pgpdo': return (string) Boot::$pgpdo->query($pgsql)->fetchColumn();
    // rows of an unbuffered result are read by fetch, after query()
    // returned: 8 MB of them, more than the stream's buffer holds
    case 'unbuf': return (string) count(Boot::$unbuf->query("$sql UNION ALL SELECT REPEAT('x', 8000000)")
                                                    ->fetchAll(PDO::FETCH_COLUMN));
    case 'proxied': return (string) Boot::$proxied->query($sql)->fetchColumn();
    case 'unbufstmt':
        $st = Boot::$unbuf->prepare("$sql UNION ALL SELECT REPEAT('x', 8000000)");
        $st->execute();
        return (string) count($st->fetchAll(PDO::FETCH_COLUMN));
    default: return (string) Boot::$pdo->query($sql)->fetchColumn();
    }
}

// Runs $fn and records when it started, ended and how.
function recorded(string $tag, callable $fn): array
{
    Boot::$rec[$tag] = ['start' => microtime(true)];
    try {
        $v = $fn();
        Boot::$rec[$tag]['how'] = 'returned ' . $v;
    } catch (Throwable $e) {
        Boot::$rec[$tag]['how'] = ($e instanceof Async\CancellationError ? 'cancelled: ' : 'error: ')
            . get_class($e) . ': ' . $e->getMessage();
        throw $e;
    } finally {
        Boot::$rec[$tag]['end'] = microtime(true);
    }
    return Boot::$rec[$tag];
}

function use_handle(string $api, int $id): array
{
    try {
        // id -1: the connection's id on the server
        $sql = $id === -1 ? 'SELECT CONNECTION_ID()' : "SELECT $id";
        switch ($api) {
        case 'mysqli': $v = Boot::$mysqli->query($sql)->fetch_row()[0]; break;
        case 'pg': $v = pg_fetch_row(pg_query(Boot::$pg, "SELECT $id"))[0]; break;
        case 'pgpdo': $v = Boot::$pgpdo->query("SELECT $id")->fetchColumn(); break;
        case 'unbuf': $v = Boot::$unbuf->query($sql)->fetchAll(PDO::FETCH_COLUMN)[0]; break;
        case 'proxied': $v = Boot::$proxied->query($sql)->fetchColumn(); break;
        default: $v = Boot::$pdo->query($sql)->fetchColumn();
        }
        return ['id' => (int) $v];
    } catch (Throwable $e) {
        return ['error' => get_class($e) . ': ' . $e->getMessage()];
    }
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $api = in_array($q['api'] ?? '', ['unbuf', 'unbufstmt', 'mysqli', 'pg', 'pgpdo', 'proxied'], true) ? $q['api'] : 'pdo';
    $tag = preg_replace('/[^a-z0-9_]/i', '', (string) ($q['tag'] ?? 'x'));
    $secs = (float) ($q['secs'] ?? 1);
    $port = (int) ($q['port'] ?? 0);
    $res->setHeader('Content-Type', 'application/json');
    $path = preg_replace('{^/short}', '', parse_url($req->getUri(), PHP_URL_PATH));
    switch ($path) {
    case '/reboot':
        file_put_contents(port_file(), $port . ' ' . (int) ($q['pgport'] ?? 0) . ' ' . (int) ($q['proxyport'] ?? 0));
        Async\graceful_shutdown();
        $out = ['rebooting' => true];
        break;
    case '/state':
        $out = ['made' => Boot::$made, 'rec' => Boot::$rec, 'pid' => getmypid(),
                'coroutines' => count(Async\get_coroutines())];
        break;
    case '/hold':
        $out = recorded($tag, fn () => sleep_on($api, $secs));
        break;
    case '/use':
        $out = use_handle($api, (int) ($q['id'] ?? 0));
        break;
    case '/connid':
        $out = use_handle($api, -1);
        break;
    case '/local':
        $out = recorded($tag, fn () => pdo_to($port)->query(sprintf('SELECT SLEEP(%.3F)', $secs))->fetchColumn());
        break;
    case '/throwunbuf':
        // an exception thrown while an unbuffered result is unread: its
        // statement skips the rest of it as the exception unwinds
        $db = $api === 'unbuf' ? Boot::$unbuf : pdo_to($port, false);
        try {
            (function () use ($db) {
                $st = $db->query("SELECT 1 UNION ALL SELECT REPEAT('x', 8000000)");
                $st->fetch();
                throw new RuntimeException('thrown mid-result');
            })();
        } catch (RuntimeException $e) {
            $out = ['caught' => $e->getMessage()];
        }
        $out['after'] = (int) $db->query('SELECT 5')->fetchAll(PDO::FETCH_COLUMN)[0];
        break;
    case '/connect':
        $out = recorded($tag, fn () => pdo_to($port) ? 'connected' : '');
        break;
    default:
        $out = ['error' => 'no such path'];
    }
    $res->write(json_encode($out));
});
