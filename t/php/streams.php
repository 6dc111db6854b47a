<?php
// Worker for the stream-socket tests (t/trueasync/43_streams.t): socket
// I/O inside request coroutines must yield to the other requests of the
// thread, and behave exactly as it does outside coroutines (at boot).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;
use function Async\{spawn, await, delay};

function refused(): array
{
    $s = @stream_socket_client('tcp://127.0.0.1:1', $errno, $errstr, 2);
    return [$s === false, $errno, $errstr];
}

function read_timeout(int $port): array
{
    $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5);
    stream_set_timeout($s, 0, 100000);
    fwrite($s, "GET /hang HTTP/1.0\r\n\r\n");
    $t = hrtime(true);
    $r = fread($s, 100);
    $meta = stream_get_meta_data($s);
    fclose($s);
    return ['read' => $r, 'timed_out' => $meta['timed_out'], 'ms' => (hrtime(true) - $t) / 1e6];
}

function reset_read(int $port): array
{
    $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5);
    fwrite($s, "GET /reset HTTP/1.0\r\n\r\n");
    $all = '';
    while (!feof($s)) { $c = fread($s, 8192); if ($c === false || $c === '') break; $all .= $c; }
    $r = ['got' => $all, 'eof' => feof($s)];
    fclose($s);
    return $r;
}

function curl_get(string $url): array
{
    $ch = curl_init($url);
    curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 5]);
    $body = curl_exec($ch);
    $r = ['body' => $body, 'errno' => curl_errno($ch), 'code' => curl_getinfo($ch, CURLINFO_RESPONSE_CODE)];
    curl_close($ch);
    return $r;
}

function curl_multi_get(array $urls): array
{
    $mh = curl_multi_init();
    $hs = [];
    foreach ($urls as $u) {
        $h = curl_init($u);
        curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
        curl_multi_add_handle($mh, $h);
        $hs[] = $h;
    }
    do {
        $status = curl_multi_exec($mh, $active);
        if ($active) curl_multi_select($mh, 1.0);
    } while ($active && $status == CURLM_OK);
    $out = [];
    foreach ($hs as $h) { $out[] = curl_multi_getcontent($h); curl_multi_remove_handle($mh, $h); curl_close($h); }
    curl_multi_close($mh);
    return $out;
}

function run_proc(string $cmd, string $input = ''): array
{
    $p = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    if ($input !== '') fwrite($pipes[0], $input);
    fclose($pipes[0]);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    $code = proc_close($p);
    return ['out' => $out, 'err' => $err, 'code' => $code];
}

// What a child process finds on its stdin: the descriptor's real mode.
const MODE_CHECK = ['perl', '-MFcntl', '-e', 'print((fcntl(STDIN, F_GETFL, 0) & O_NONBLOCK) ? "nonblocking" : "blocking")'];

function child_sees($stream): string
{
    $p = proc_open(MODE_CHECK, [0 => $stream, 1 => ['pipe', 'w']], $pipes);
    $seen = stream_get_contents($pipes[1]);
    fclose($pipes[1]);
    proc_close($p);
    return $seen;
}

// A blocking socket read in a coroutine (the peer writes later when
// $peerLater) and then handed to a child; a non-blocking one read empty
// and handed over too. The modes PHP set must be what the child sees.
function fd_modes(bool $peerLater): array
{
    $path = sys_get_temp_dir() . '/ta-mode-' . getmypid() . '-' . mt_rand() . '.sock';
    $srv = stream_socket_server("unix://$path", $errno, $errstr);
    $c = stream_socket_client("unix://$path", $errno, $errstr, 2);
    $peer = stream_socket_accept($srv, 2);
    $send = function () use ($peer, $peerLater) {
        if ($peerLater) delay(30);
        fwrite($peer, "first second");
        fclose($peer);
    };
    $writer = $peerLater ? spawn($send) : null;
    if (!$peerLater) $send();
    $r = ['head' => fread($c, 6)];
    $r['child_blocking'] = child_sees($c);
    $r['rest'] = stream_get_contents($c);
    $r['meta_blocked'] = stream_get_meta_data($c)['blocked'];
    if ($writer) await($writer);
    fclose($c);

    $n = stream_socket_client("unix://$path", $errno, $errstr, 2);
    $peer = stream_socket_accept($srv, 2);
    stream_set_blocking($n, false);
    $r['nonblocking_read'] = fread($n, 10);
    $r['child_nonblocking'] = child_sees($n);
    stream_set_blocking($n, true);
    fwrite($peer, "later");
    fclose($peer);
    $r['blocking_again'] = stream_get_contents($n);
    fclose($n);
    fclose($srv);
    @unlink($path);
    return $r;
}

const PROC_CASES = [
    'echo' => ['sleep 0.2; echo out; echo err >&2', ''],
    'cat' => ['cat', "piped\ninput\n"],
    'exit3' => ['exit 3', ''],
    'killed' => ['kill -9 $$', ''],
];

// Outside coroutines (while booting) PHP's own blocking code runs: the
// reference results.
$bootRefused = refused();
$bootCurlRefused = curl_get('http://127.0.0.1:1/');
$bootProc = [];
foreach (PROC_CASES as $k => [$cmd, $in]) $bootProc[$k] = run_proc($cmd, $in);
$bootModes = fd_modes(false);

HttpServer::onRequest(function (Request $req, Response $res) use ($bootRefused, $bootProc, $bootCurlRefused, $bootModes) {
    $q = $req->getQueryParams();
    $port = (int) ($q['port'] ?? 0);
    $id = $q['id'] ?? '';
    $out = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/client':
        $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5);
        fwrite($s, "GET /c$id HTTP/1.0\r\n\r\n");
        $r = stream_get_contents($s);
        fclose($s);
        $out = ['body' => substr($r, strpos($r, "\r\n\r\n") + 4)];
        break;
    case '/fgc':
        $out = ['body' => file_get_contents("http://127.0.0.1:$port/f$id")];
        break;
    case '/fsockopen':
        $s = fsockopen('127.0.0.1', $port, $errno, $errstr, 5);
        fwrite($s, "GET /s$id HTTP/1.0\r\n\r\n");
        $r = '';
        while (($line = fgets($s)) !== false) $r .= $line;
        fclose($s);
        $out = ['body' => substr($r, strpos($r, "\r\n\r\n") + 4)];
        break;
    case '/client-host':
        // A host name: resolved on the reactor, every address tried in turn.
        $s = stream_socket_client("tcp://localhost:$port", $errno, $errstr, 5);
        fwrite($s, "GET /h$id HTTP/1.0\r\n\r\n");
        $r = stream_get_contents($s);
        fclose($s);
        $out = ['body' => substr($r, strpos($r, "\r\n\r\n") + 4)];
        break;
    case '/connect-timeout':
        $t = hrtime(true);
        $s = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 0.5);
        $out = ['failed' => $s === false, 'errno' => $errno, 'errstr' => $errstr, 'ms' => (hrtime(true) - $t) / 1e6];
        break;
    case '/proc':
        $k = $q['case'] ?? 'echo';
        [$cmd, $in] = PROC_CASES[$k];
        // when this request's command ran, on the thread's monotonic clock:
        // the test finds whether the thread ran other requests meanwhile
        $began = hrtime(true);
        $ran = run_proc($cmd, $in);
        $out = ['coroutine' => $ran, 'boot' => $bootProc[$k], 'began' => $began, 'ended' => hrtime(true)];
        break;
    case '/select':
        // stream_select() over two upstream connections: it yields while
        // waiting, and reports the streams as PHP would.
        $a = stream_socket_client("tcp://127.0.0.1:$port", $e, $es, 5);
        $b = stream_socket_client("tcp://127.0.0.1:$port", $e, $es, 5);
        fwrite($a, "GET /sa$id HTTP/1.0\r\n\r\n");
        fwrite($b, "GET /sb$id HTTP/1.0\r\n\r\n");
        $got = [];
        $t = hrtime(true);
        $open = [$a, $b];
        while ($open) {
            $r = $open; $w = $x = null;
            $n = stream_select($r, $w, $x, 5);
            if ($n === false || $n === 0) break;
            foreach ($r as $s) {
                $chunk = fread($s, 8192);
                if ($chunk === '' || $chunk === false || feof($s)) {
                    if ($chunk) $got[(int) $s] = ($got[(int) $s] ?? '') . $chunk;
                    $open = array_values(array_filter($open, fn($o) => $o !== $s));
                    continue;
                }
                $got[(int) $s] = ($got[(int) $s] ?? '') . $chunk;
            }
        }
        $bodies = array_map(fn($r) => substr($r, strpos($r, "\r\n\r\n") + 4), $got);
        sort($bodies);
        $quiet = stream_socket_client("tcp://127.0.0.1:$port", $e, $es, 5);   // sends nothing
        $r = [$quiet]; $w = $x = null;
        $t2 = hrtime(true);
        $timeout = stream_select($r, $w, $x, 0, 100000);   // nothing to read: times out
        fclose($quiet);
        $out = ['bodies' => $bodies, 'ms' => (hrtime(true) - $t) / 1e6, 'timeout_result' => $timeout,
                'timeout_ms' => (hrtime(true) - $t2) / 1e6];
        break;
    case '/https':
        // TLS connect + handshake + request through PHP's https:// wrapper.
        $ctx = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);
        $t = hrtime(true);
        $body = @file_get_contents("https://127.0.0.1:$port/" . ($q['path'] ?? ''), false, $ctx);
        $out = ['ok' => $body !== false, 'body' => $body, 'ms' => (hrtime(true) - $t) / 1e6,
                'error' => $body === false ? (error_get_last()['message'] ?? '') : ''];
        break;
    case '/starttls':
        // Plain connect, then stream_socket_enable_crypto() (as mysqlnd and
        // SMTP clients do).
        $ctx = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);
        $s = stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $ctx);
        $ok = stream_socket_enable_crypto($s, true, STREAM_CRYPTO_METHOD_TLS_CLIENT);
        fwrite($s, "GET /st$id HTTP/1.0\r\n\r\n");
        $r = stream_get_contents($s);
        $out = ['enabled' => $ok, 'body' => substr($r, strpos($r, "\r\n\r\n") + 4)];
        break;
    case '/tls-verify':
        // Peer verification still applies: the suite's certificate is self-signed.
        $s = @stream_socket_client("ssl://127.0.0.1:$port", $errno, $errstr, 5);
        $out = ['connected' => $s !== false, 'error' => error_get_last()['message'] ?? ''];
        break;
    case '/curl':
        $out = curl_get("http://127.0.0.1:$port/u$id");
        break;
    case '/curl-multi':
        $out = ['bodies' => curl_multi_get(["http://127.0.0.1:$port/m{$id}a", "http://127.0.0.1:$port/m{$id}b"])];
        break;
    case '/curl-timeout':
        $ch = curl_init("http://127.0.0.1:$port/hang");
        curl_setopt_array($ch, [CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT_MS => 200]);
        $t = hrtime(true);
        $body = curl_exec($ch);
        $out = ['body' => $body, 'errno' => curl_errno($ch), 'ms' => (hrtime(true) - $t) / 1e6];
        curl_close($ch);
        break;
    case '/curl-refused':
        $out = ['coroutine' => curl_get('http://127.0.0.1:1/'), 'boot' => $bootCurlRefused];
        break;
    case '/refused':
        $out = ['coroutine' => refused(), 'boot' => $bootRefused];
        break;
    case '/read-timeout':
        $out = read_timeout($port);
        break;
    case '/reset':
        $out = reset_read($port);
        break;
    case '/server':
        // A server and its client in two coroutines of one thread: accept()
        // and read() must yield, or this deadlocks.
        $srv = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        $name = stream_socket_get_name($srv, false);
        $client = spawn(function () use ($name) {
            delay(50);
            $c = stream_socket_client("tcp://$name", $e, $es, 2);
            fwrite($c, "ping\n");
            $reply = fgets($c);
            fclose($c);
            return $reply;
        });
        $conn = stream_socket_accept($srv, 2);
        $line = fgets($conn);
        fwrite($conn, "pong:" . $line);
        fclose($conn);
        $out = ['server_got' => $line, 'client_got' => await($client)];
        break;
    case '/accept-timeout':
        $srv = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        $t = hrtime(true);
        $c = @stream_socket_accept($srv, 0.2);
        $out = ['accepted' => $c !== false, 'ms' => (hrtime(true) - $t) / 1e6];
        break;
    case '/unix':
        $path = sys_get_temp_dir() . '/ta-' . getmypid() . '-' . mt_rand() . '.sock';
        $srv = stream_socket_server("unix://$path", $errno, $errstr);
        $client = spawn(function () use ($path) {
            $c = stream_socket_client("unix://$path", $e, $es, 2);
            fwrite($c, "over unix\n");
            $r = fgets($c);
            fclose($c);
            return $r;
        });
        $conn = stream_socket_accept($srv, 2);
        $line = fgets($conn);
        fwrite($conn, strtoupper($line));
        fclose($conn);
        $out = ['server_got' => $line, 'client_got' => await($client)];
        fclose($srv);
        @unlink($path);
        break;
    case '/duplex':
        // One coroutine waits to read a socket while another waits to write
        // 4 MiB to it (the peer is not reading yet): two waits on one
        // descriptor at once.
        $path = sys_get_temp_dir() . '/ta-duplex-' . getmypid() . '-' . mt_rand() . '.sock';
        $srv = stream_socket_server("unix://$path", $errno, $errstr);
        $c = stream_socket_client("unix://$path", $errno, $errstr, 2);
        $peer = stream_socket_accept($srv, 2);
        $big = str_repeat('x', 4 << 20);
        $reader = spawn(fn() => fread($c, 4));
        $writer = spawn(fn() => fwrite($c, $big));
        delay(50);
        fwrite($peer, "pong");
        $got = 0;
        while ($got < strlen($big) && ($chunk = fread($peer, 65536)) !== false && $chunk !== '') $got += strlen($chunk);
        $out = ['read' => await($reader), 'written' => await($writer), 'peer_got' => $got];
        fclose($c); fclose($peer); fclose($srv);
        @unlink($path);
        break;
    case '/fd-mode':
        $out = ['coroutine' => fd_modes(true), 'boot' => $bootModes];
        break;
    case '/ping':
        $out = ['pong' => true];
        break;
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
