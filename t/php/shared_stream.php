<?php
// Worker for t/trueasync/93_shared_stream.t (one PHP thread): socket
// streams made once and kept for the worker's life, as code written for one
// request at a time keeps its clients: a raw RESP connection (what a
// pure-PHP client does on the wire) and Debian's Predis. ?port= names the
// test's redis-server.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

require __DIR__ . '/inc/together.php';
require '/usr/share/php/Predis/autoload.php';

// The worker's one raw connection, (re)made when missing or closed, or
// made again ($again) as a client does after an error on it.
function shared_conn(int $port, bool $again = false)
{
    static $s = null;
    if ($again && is_resource($s)) fclose($s);
    if ($again || !is_resource($s)) $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5);
    return $s;
}

// A client object whose destructor closes its socket, as Predis'
// connection does; the worker keeps one. ?replace makes a new one (the old
// one's destructor then runs, maybe while another request reads its socket).
final class Closer
{
    public function __construct(public $s) {}
    public function __destruct() { fclose($this->s); }
}

function closer(int $port, bool $replace = false): Closer
{
    static $c = null;
    if ($c !== null && $replace) $GLOBALS['closer_old'] = $c->s;
    if ($c === null || $replace) $c = new Closer(stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5));
    return $c;
}

// As Predis\Client's: __call makes a command object and runs it, so the
// VM stack past a frame being entered through __call held values a moment
// before.
final class Cmd
{
    public function __construct(public string $id, public array $args) {}
}

final class Magic
{
    public function __call($name, $args) { return $this->run($this->make($name, $args)); }
    private function make(string $id, array $args): Cmd { return new Cmd($id, $args); }
    private function run(Cmd $c): int { return count($c->args) + strlen($c->id); }
}

// One command in RESP: the reply line, then a bulk reply read in as many
// parts as the socket gives (so another request's bytes would show).
function resp($s, string ...$args)
{
    return resp_send($s, ...$args) ? resp_read($s) : ['error' => 'write'];
}

function resp_send($s, string ...$args): bool
{
    $out = '*' . count($args) . "\r\n";
    foreach ($args as $a) $out .= '$' . strlen($a) . "\r\n$a\r\n";
    return @fwrite($s, $out) === strlen($out);
}

function resp_read($s)
{
    $line = @fgets($s);
    if ($line === false) return ['error' => 'read'];
    if ($line[0] === '*') {                 // BLPOP: an array, or *-1 when it timed out
        if ((int) substr($line, 1) < 0) return null;
        $items = [];
        for ($i = (int) substr($line, 1); $i > 0; $i--) $items[] = resp_bulk($s, fgets($s));
        return $items;
    }
    return $line[0] === '$' ? resp_bulk($s, $line) : rtrim($line);
}

function resp_bulk($s, $line)
{
    $n = (int) substr($line, 1);
    if ($n < 0) return null;
    $buf = '';
    while (strlen($buf) < $n + 2) {
        $part = @fread($s, min(4096, $n + 2 - strlen($buf)));
        if ($part === false || $part === '') return ['error' => 'short'];
        $buf .= $part;
    }
    return substr($buf, 0, $n);
}

// A value that says whose it is all along, so a mix shows wherever it is.
function value_of(string $who, int $bytes): string
{
    return substr(str_repeat("<$who>", intdiv($bytes, strlen("<$who>")) + 1), 0, $bytes);
}

HttpServer::onRequest(function (Request $req, Response $res) {
    static $predis = null;
    $q = $req->getQueryParams();
    $port = (int) ($q['port'] ?? 0);
    $id = (string) ($q['id'] ?? '0');
    $out = ['id' => $id];
    $t0 = together($q);
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/raw':
        // SET then GET of a value of its own, on the shared connection
        $s = shared_conn($port);
        $v = value_of("raw$id", (int) ($q['bytes'] ?? 60000));
        $set = resp($s, 'SET', "ta_shared_$id", $v);
        Async\delay(1);                          // another wait between commands: others may go
        $got = is_resource($s) ? resp($s, 'GET', "ta_shared_$id") : ['error' => 'closed'];
        $out += ['set' => $set, 'same' => $got === $v, 'got' => is_string($got) ? substr($got, 0, 24) : $got];
        // ?heal=1: after an error the connection is made again (Predis does so)
        if (!empty($q['heal']) && (is_array($set) || is_array($got))) $out['again'] = (bool) shared_conn($port, true);
        break;
    case '/raw/busy':
        // a whole exchange on the shared connection, then code that does not
        // yield (the connection stays this request's) while its client goes
        $s = shared_conn($port);
        $set = resp($s, 'SET', "ta_shared_$id", $id);
        $got = resp($s, 'GET', "ta_shared_$id");
        for ($end = microtime(true) + (float) ($q['secs'] ?? 1); microtime(true) < $end;) $x = md5($id);
        $out += ['same' => $set === '+OK' && $got === $id];
        break;
    case '/predis':
        // Debian's Predis, one client for the worker
        $predis ??= new Predis\Client(['host' => '127.0.0.1', 'port' => $port, 'read_write_timeout' => 10]);
        $v = value_of("predis$id", (int) ($q['bytes'] ?? 60000));
        $predis->set("ta_predis_$id", $v);
        $got = $predis->get("ta_predis_$id");
        $list = $predis->lrange("ta_predis_list_$id", 0, -1);
        $predis->rpush("ta_predis_list_$id", [$id]);
        $out += ['same' => $got === $v, 'got' => substr((string) $got, 0, 24),
                 'list' => $predis->lrange("ta_predis_list_$id", 0, -1), 'before' => $list];
        break;
    case '/blpop':
    case '/cut/blpop':          // under a location with TrueAsyncRequestTimeout 1
        // a command that waits on the server: ?shared=1 on the worker's
        // connection (one request at a time, as in a worker serving one
        // request at a time), else on a connection of the request's own
        $s = empty($q['shared']) ? stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5) : shared_conn($port);
        // sent: the command is out (the connection is this request's from
        // there), replied: its reply is in; on the monotonic clock
        $start = microtime(true);
        $sent = resp_send($s, 'BLPOP', "ta_empty_$id", $q['secs'] ?? '0.3') ? hrtime(true) : 0;
        $got = $sent ? resp_read($s) : ['error' => 'write'];
        $out += ['got' => $got, 'start' => $start, 'end' => microtime(true), 'sent' => $sent, 'replied' => hrtime(true)];
        break;
    case '/closer/hold':
        // the socket only (not the object), as a client method's local does
        $s = closer($port)->s;
        $out['got'] = resp($s, 'BLPOP', 'ta_empty_closer', $q['secs'] ?? '0.6');
        break;
    case '/closer/replace':
        $out['replaced'] = (bool) closer($port, true);
        $out['old_open'] = is_resource($GLOBALS['closer_old']);
        break;
    case '/closer/check':
        $out['old_open'] = is_resource($GLOBALS['closer_old'] ?? null);
        $out['ping'] = resp(closer($port)->s, 'PING');
        break;
    case '/magic/busy':
        // never yields for a while, calling through __call: what other
        // requests' clients do meanwhile is seen at VM interrupts
        $m = new Magic();
        $n = 0;
        for ($end = microtime(true) + (float) ($q['secs'] ?? 1); microtime(true) < $end;)
            $n += $m->set('k', 'v', 'EX', 120, 1, 2, 3, 4, 5, 6, 7, 8);
        $out['calls'] = $n;
        break;
    case '/magic/wait':
        // its client hangs up: the cancellation's trace is kept
        try {
            Async\delay(3000);
        } catch (Async\CancellationError $e) {
            $GLOBALS['magic_traces'][] = array_map(fn ($f) => ['function' => $f['function'] ?? '',
                'class' => $f['class'] ?? '', 'args' => $f['args'] ?? null], $e->getTrace());
            throw $e;
        }
        break;
    case '/magic/traces':
        $out['traces'] = $GLOBALS['magic_traces'] ?? [];
        break;
    case '/close':
        // BLPOP on the shared connection, then close it (a client that
        // disconnects after an error): requests queued behind it fail
        // cleanly and the next ones connect again
        $s = shared_conn($port);
        $out['got'] = resp($s, 'BLPOP', 'ta_empty_close', $q['secs'] ?? '0.4');
        $out['closed'] = fclose($s);
        break;
    }
    $out['t0'] = $t0;
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
    $res->end();
});
