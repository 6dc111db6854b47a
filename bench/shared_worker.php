<?php
// bench/shared.sh: handles made once when the thread boots and shared by
// all its concurrent requests (a PDO to MariaDB, a pgsql link, a raw RESP
// socket to Redis, Debian's Predis, a curl handle). Each request writes a
// value of its own through some of them and reads it back, with coroutine
// waits in between, and says for each whether the reply was its own.
//   /r?id=ID[&h=raw,pdo]   a random subset of the handles (or those named)
//   /slow?id=ID&h=H        one command longer than TrueAsyncRequestTimeout
//                          on handle H (pdo: SLEEP, pg: pg_sleep, raw and
//                          predis: BLPOP), for the module to cancel
//   /check?id=ID           every handle, and the thread's counters
// The answer (JSON): id, thr (the thread's token, random at boot), sum
// ("raw=ok,pdo=mismatch,..."), err (the message of each handle not ok),
// and on /check the reconnects and counts of the thread. A handle's word:
//   ok        its own value came back
//   mismatch  an answer that was not its own (another request's reply)
//   error     the call failed (closed connection, a server error)
// SHARED_HANDLES=raw,pdo limits /r to those (to narrow a lapse down).
// After a mismatch or an error the handle is made again (SHARED_RESYNC=0
// keeps it as it is), so that one lapse does not spread to every later
// request; the reconnects are counted and reported.
// Ports come from the environment: SHARED_MYSQL_PORT, SHARED_PG_PORT,
// SHARED_REDIS_PORT, SHARED_WEB_PORT (the Apache: /echo.txt answers the
// query string in its X-Echo header).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

require '/usr/share/php/Predis/autoload.php';

final class H
{
    public static string $thr = '';
    public static ?PDO $pdo = null;
    /** @var PgSql\Connection|null */
    public static $pg = null;
    /** @var resource|null */
    public static $raw = null;
    public static ?Predis\Client $predis = null;
    public static ?CurlHandle $curl = null;
    public static array $reconnects = [];
    public static array $counts = [];
    public static bool $resync = true;
    /** the handles /r picks from (SHARED_HANDLES, default all) */
    public static array $use = [];
}

const HANDLES = ['raw', 'predis', 'pdo', 'pg', 'curl'];

function port(string $name): int
{
    return (int) getenv("SHARED_{$name}_PORT");
}

function make(string $h): void
{
    switch ($h) {
    case 'pdo':
        H::$pdo = new PDO('mysql:host=127.0.0.1;port=' . port('MYSQL') . ';dbname=soak', 'root', '',
                          [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 5]);
        break;
    case 'pg':
        H::$pg = pg_connect('host=127.0.0.1 port=' . port('PG') . ' user=postgres dbname=postgres',
                            PGSQL_CONNECT_FORCE_NEW) ?: null;
        break;
    case 'raw':
        H::$raw = stream_socket_client('tcp://127.0.0.1:' . port('REDIS'), $errno, $errstr, 5) ?: null;
        if (H::$raw) stream_set_timeout(H::$raw, 30);
        break;
    case 'predis':
        H::$predis = new Predis\Client(['host' => '127.0.0.1', 'port' => port('REDIS'), 'read_write_timeout' => 30]);
        H::$predis->connect();
        break;
    case 'curl':
        H::$curl = curl_init();
        break;
    }
}

// A handle made again after a lapse: the old one is dropped as it is.
function remake(string $h): void
{
    H::$reconnects[$h] = (H::$reconnects[$h] ?? 0) + 1;
    try {
        if ($h === 'raw' && is_resource(H::$raw)) @fclose(H::$raw);
        if ($h === 'predis' && H::$predis) H::$predis->disconnect();
        if ($h === 'pg' && H::$pg) @pg_close(H::$pg);
    } catch (Throwable $e) {
    }
    make($h);
}

// --- RESP by hand, as a pure-PHP client does (what Predis does too)

function resp_send($s, string ...$args): bool
{
    $out = '*' . count($args) . "\r\n";
    foreach ($args as $a) $out .= '$' . strlen($a) . "\r\n$a\r\n";
    return is_resource($s) && @fwrite($s, $out) === strlen($out);
}

// The reply as text: "+OK", "$<value>", "*-1", "-ERR ...", or null when
// the socket failed.
function resp_read($s): ?string
{
    $line = is_resource($s) ? @fgets($s) : false;
    if ($line === false) return null;
    $line = rtrim($line, "\r\n");
    if ($line === '' || $line[0] !== '$') {
        if ($line !== '' && $line[0] === '*' && (int) substr($line, 1) > 0) {
            // an array (a BLPOP that got an element): read its bulk items
            $items = [];
            for ($i = (int) substr($line, 1); $i > 0; $i--) $items[] = resp_read($s);
            return '*' . implode('|', $items);
        }
        return $line;
    }
    $n = (int) substr($line, 1);
    if ($n < 0) return '$-1';
    $buf = '';
    while (strlen($buf) < $n + 2) {
        $part = @fread($s, $n + 2 - strlen($buf));
        if ($part === false || $part === '') return null;
        $buf .= $part;
    }
    return '$' . substr($buf, 0, $n);
}

function resp($s, string ...$args): ?string
{
    return resp_send($s, ...$args) ? resp_read($s) : null;
}

final class Lapse extends Exception
{
    public function __construct(public string $word, string $msg)
    {
        parent::__construct($msg);
    }
}

function expect(?string $got, string $want, string $what): void
{
    if ($got === null) throw new Lapse('error', "$what: no reply (socket failed)");
    if ($got !== $want) {
        $word = $got !== '' && $got[0] === '-' ? 'error' : 'mismatch';
        throw new Lapse($word, "$what: got " . substr($got, 0, 80) . ' wanted ' . substr($want, 0, 80));
    }
}

function pause(): void
{
    Async\delay(random_int(0, 3));
}

// --- one write-and-read-back per handle; a Lapse when not its own

function op_raw(string $id, string $v): void
{
    expect(resp(H::$raw, 'SET', "soak:raw:$id", $v, 'EX', '120'), '+OK', 'SET');
    pause();
    expect(resp(H::$raw, 'GET', "soak:raw:$id"), '$' . $v, 'GET');
}

function op_predis(string $id, string $v): void
{
    $set = (string) H::$predis->set("soak:predis:$id", $v, 'EX', 120);
    if ($set !== 'OK') throw new Lapse('mismatch', 'SET: got ' . substr($set, 0, 80));
    pause();
    $got = H::$predis->get("soak:predis:$id");
    if ($got !== $v) throw new Lapse('mismatch', 'GET: got ' . substr((string) $got, 0, 80) . " wanted $v");
}

function op_pdo(string $id, string $v): void
{
    $db = H::$pdo;
    $db->beginTransaction();
    try {
        $db->prepare('INSERT INTO kv (id, v) VALUES (?, ?)')->execute([$id, $v]);
        pause();
        $st = $db->prepare('SELECT v, ? AS lit FROM kv WHERE id = ?');
        $st->execute([$v, $id]);
        $row = $st->fetch(PDO::FETCH_NUM) ?: [null, null];
        $st->closeCursor();
        if ($row[0] !== $v || $row[1] !== $v) {
            throw new Lapse('mismatch', 'SELECT: got ' . json_encode($row) . " wanted $v");
        }
    } finally {
        if ($db->inTransaction()) random_int(0, 1) ? $db->commit() : $db->rollBack();
    }
}

function op_pg(string $id, string $v): void
{
    $c = H::$pg;
    $q = function (string $sql, array $p = []) use ($c) {
        $r = @pg_query_params($c, $sql, $p);
        if ($r === false) throw new Lapse('error', "$sql: " . pg_last_error($c));
        return $r;
    };
    $q('BEGIN');
    try {
        $q('INSERT INTO kv (id, v) VALUES ($1, $2)', [$id, $v]);
        pause();
        $row = pg_fetch_row($q('SELECT v, $1::text FROM kv WHERE id = $2', [$v, $id])) ?: [null, null];
        if ($row[0] !== $v || $row[1] !== $v) {
            throw new Lapse('mismatch', 'SELECT: got ' . json_encode($row) . " wanted $v");
        }
    } finally {
        if (pg_transaction_status($c) !== PGSQL_TRANSACTION_IDLE) @pg_query($c, random_int(0, 1) ? 'COMMIT' : 'ROLLBACK');
    }
}

function op_curl(string $id, string $v): void
{
    $ch = H::$curl;
    curl_reset($ch);
    curl_setopt_array($ch, [CURLOPT_URL => 'http://127.0.0.1:' . port('WEB') . '/echo.txt?' . $v,
                            CURLOPT_RETURNTRANSFER => true, CURLOPT_HEADER => true, CURLOPT_TIMEOUT => 30]);
    $got = curl_exec($ch);
    $url = curl_getinfo($ch, CURLINFO_EFFECTIVE_URL);
    if ($got === false) throw new Lapse('error', 'curl: ' . curl_error($ch));
    $echo = preg_match('/^X-Echo: (.*?)\r?$/mi', $got, $m) ? $m[1] : '';
    if ($echo !== $v || !str_ends_with($url, "?$v")) {
        throw new Lapse('mismatch', "echo: got '$echo' at $url wanted $v");
    }
}

// Runs one handle's operation: its word, and the message unless ok. A
// cancellation of the request itself goes through (it is not a lapse).
function run(string $h, string $id, array &$err): string
{
    $v = "$h." . $id . '.' . bin2hex(random_bytes(4));
    $used = null;
    try {
        if ((H::$$h) === null) make($h);
        $used = H::$$h;
        ('op_' . $h)($id, $v);
        $word = 'ok';
    } catch (Async\CancellationError $e) {
        throw $e;
    } catch (Lapse $e) {
        [$word, $err[$h]] = [$e->word, $e->getMessage()];
    } catch (Throwable $e) {
        [$word, $err[$h]] = ['error', get_class($e) . ': ' . $e->getMessage()];
    }
    H::$counts[$h][$word] = (H::$counts[$h][$word] ?? 0) + 1;
    // in the error log too (its request may still be cancelled before it
    // answers): when and where, beside the module's own lines
    if ($word !== 'ok') error_log(sprintf('shared lapse: thread %s %s %s in request %s: %s', H::$thr, $h, $word, $id, $err[$h]));
    // made again once, by the request that met the lapse first (not by
    // those that waited on the old one and found it closed)
    if ($word !== 'ok' && H::$resync && $used !== null && H::$$h === $used) {
        try { remake($h); } catch (Throwable $e) { $err[$h] .= ' (remake: ' . $e->getMessage() . ')'; }
    }
    return $word;
}

// A command that outlasts the request's timeout, on the shared handle.
function slow(string $h, string $id): string
{
    switch ($h) {
    case 'pdo': return (string) H::$pdo->query('SELECT SLEEP(10)')->fetchColumn();
    case 'pg': return (string) pg_fetch_result(pg_query(H::$pg, 'SELECT pg_sleep(10)'), 0, 0);
    case 'raw': return (string) resp(H::$raw, 'BLPOP', "soak:empty:$id", '10');
    case 'predis': return json_encode(H::$predis->blpop(["soak:empty:$id"], 10));
    }
    return 'no such handle';
}

H::$thr = bin2hex(random_bytes(4));
H::$resync = getenv('SHARED_RESYNC') !== '0';
H::$use = array_values(array_intersect(HANDLES, explode(',', getenv('SHARED_HANDLES') ?: implode(',', HANDLES))));
foreach (HANDLES as $h) make($h);

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $id = preg_replace('/[^A-Za-z0-9_-]/', '', (string) ($q['id'] ?? ''));
    $out = ['id' => $id, 'thr' => H::$thr];
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $err = [];
    $sum = [];
    if ($path === '/slow') {
        // cancelled before it returns: a reply within the timeout was not
        // its own (nothing ever fills the list; SLEEP(10) is not killed
        // before its request is cancelled)
        $h = (string) ($q['h'] ?? '');
        try {
            $got = slow($h, $id);
            $word = in_array($h, ['raw', 'predis'], true) ? 'mismatch' : 'error';
            $err[$h] = 'the slow command returned within the timeout: ' . substr($got, 0, 80);
        } catch (Async\CancellationError $e) {
            throw $e;
        } catch (Throwable $e) {
            [$word, $err[$h]] = ['error', get_class($e) . ': ' . $e->getMessage()];
        }
        H::$counts[$h][$word] = (H::$counts[$h][$word] ?? 0) + 1;
        error_log(sprintf('shared lapse: thread %s %s %s in request %s: %s', H::$thr, $h, $word, $id, $err[$h]));
        $out['sum'] = "$h=$word";
        $out['err'] = (object) $err;
    } else {
        if ($path === '/check') $hs = HANDLES;
        elseif (isset($q['h'])) $hs = array_intersect(explode(',', (string) $q['h']), HANDLES);
        else {
            $hs = array_values(array_filter(H::$use, fn () => random_int(0, 1)));
            if (!$hs) $hs = [H::$use[random_int(0, count(H::$use) - 1)]];
            shuffle($hs);
        }
        foreach ($hs as $h) {
            $sum[] = "$h=" . run($h, $id, $err);
            pause();
        }
        $out['sum'] = implode(',', $sum);
        $out['err'] = (object) $err;
        if ($path === '/check') $out += ['reconnects' => (object) H::$reconnects, 'counts' => (object) H::$counts];
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out, JSON_UNESCAPED_SLASHES) . "\n");
    $res->end();
});
