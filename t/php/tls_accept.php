<?php
// Worker for t/trueasync/97_tls_accept.t: the server side of a TLS
// handshake (stream_socket_accept() on ssl://, stream_socket_enable_crypto()
// in server mode on an accepted tcp:// socket) waits on the reactor, so the
// other requests of the thread go on meanwhile, as the client side's does;
// results and warnings are PHP's. The PHP CLI runs the same scenarios for
// PHP's own results:
//   php tls_accept.php accept|enable PORT CERT KEY    (the server side)
//   php tls_accept.php client PORT                    (the client side)
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;
use function Async\{spawn, await, delay};

// The test's client connects for each step in this order (its half of
// the scenario is in 97_tls_accept.t).
const TLS_STEPS = [
    'silent_then_tls' => 10,    // silent for 1 s, then a real handshake and a line
    'plaintext' => 10,          // sends an HTTP request instead of a ClientHello
    'trickle' => 10,            // a ClientHello one byte at a time: the 2 s handshake timeout ends it
    'nobody' => 0.5,            // nobody connects: the accept timeout
];

// Accepts one client and runs its handshake: by accept() itself on an
// ssl:// server, by stream_socket_enable_crypto() on a tcp:// one.
function tls_accept_one($srv, string $mode, float $timeout): array
{
    $conn = stream_socket_accept($srv, $timeout);
    $r = ['accepted' => $conn !== false];
    if ($conn !== false && $mode === 'enable') {
        $r['enable'] = stream_socket_enable_crypto($conn, true, STREAM_CRYPTO_METHOD_TLS_SERVER);
        if ($r['enable'] !== true) { fclose($conn); $conn = false; }
    }
    if ($conn !== false) {
        $r['tls'] = isset(stream_get_meta_data($conn)['crypto']['protocol']);
        $line = fgets($conn);
        $r['got'] = $line;
        $r['wrote'] = fwrite($conn, "echo:$line");
        fclose($conn);
    }
    return $r;
}

function tls_server(string $mode, int $port, string $crt, string $key): array
{
    $warnings = [];
    set_error_handler(function (int $no, string $msg) use (&$warnings) { $warnings[] = $msg; return true; });
    $ctx = stream_context_create(['ssl' => ['local_cert' => $crt, 'local_pk' => $key]]);
    $scheme = $mode === 'accept' ? 'ssl' : 'tcp';
    $srv = stream_socket_server("$scheme://127.0.0.1:$port", $errno, $errstr,
                                STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $ctx);
    if ($srv === false) { restore_error_handler(); return ['error' => "$errno $errstr"]; }
    // The handshake's time limit: accepted sockets take the server's.
    stream_set_timeout($srv, 2);
    $steps = [];
    foreach (TLS_STEPS as $step => $acceptTimeout) {
        $warnings = [];
        $t = hrtime(true);
        $r = tls_accept_one($srv, $mode, $acceptTimeout);
        $r['ms'] = (int) ((hrtime(true) - $t) / 1e6);
        $r['warnings'] = $warnings;
        $steps[$step] = $r;
    }
    fclose($srv);
    restore_error_handler();
    return $steps;
}

// ssl:// connects to a peer that never answers, then to one that sends its
// ServerHello a byte at a time: the 1 s connect timeout ends both.
function tls_client(int $port): array
{
    $warnings = [];
    set_error_handler(function (int $no, string $msg) use (&$warnings, $port) {
        $warnings[] = str_replace(":$port", ':PORT', $msg);     // the CLI's peer has another port
        return true;
    });
    $ctx = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);
    $steps = [];
    foreach (['silent', 'trickle'] as $step) {
        $warnings = [];
        $t = hrtime(true);
        $c = stream_socket_client("ssl://127.0.0.1:$port", $errno, $errstr, 1.0, STREAM_CLIENT_CONNECT, $ctx);
        $steps[$step] = ['connected' => $c !== false, 'errno' => $errno, 'errstr' => $errstr,
                         'ms' => (int) ((hrtime(true) - $t) / 1e6), 'warnings' => $warnings];
        if ($c !== false) fclose($c);
    }
    restore_error_handler();
    return $steps;
}

function tls_listen(string $scheme, string $crt, string $key)
{
    $ctx = stream_context_create(['ssl' => ['local_cert' => $crt, 'local_pk' => $key]]);
    $srv = stream_socket_server("$scheme://127.0.0.1:0", $errno, $errstr, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $ctx);
    stream_set_timeout($srv, 5);
    return $srv;
}

// Both sides in coroutines of this one thread: accept()'s handshake (or
// the server's enable_crypto) and the client's must take turns.
function tls_pair($srv, string $mode): array
{
    $scheme = $mode === 'accept' ? 'ssl' : 'tcp';
    $name = stream_socket_get_name($srv, false);
    $client = spawn(function () use ($scheme, $name) {
        $cctx = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);
        $c = stream_socket_client("$scheme://$name", $errno, $errstr, 5, STREAM_CLIENT_CONNECT, $cctx);
        if ($scheme === 'tcp') stream_socket_enable_crypto($c, true, STREAM_CRYPTO_METHOD_TLS_CLIENT);
        fwrite($c, "ping\n");
        $reply = fgets($c);
        fclose($c);
        return $reply;
    });
    $r = tls_accept_one($srv, $mode, 5);
    $r['client_got'] = await($client);
    return $r;
}

// A coroutine cancelled while its accept waits for a silent client's
// handshake: it ends at once, the accepted socket is closed (the client
// sees EOF), and the server then serves the next client.
function tls_cancel($srv, string $mode): array
{
    $silent = stream_socket_client('tcp://' . stream_socket_get_name($srv, false), $errno, $errstr, 5);
    $acceptor = spawn(fn() => @tls_accept_one($srv, $mode, 5));
    delay(200);
    $t = hrtime(true);
    $acceptor->cancel();
    try { await($acceptor); $r = ['cancelled' => false]; } catch (Async\CancellationError $e) { $r = ['cancelled' => true]; }
    $r['ms'] = (int) ((hrtime(true) - $t) / 1e6);
    stream_set_timeout($silent, 2);
    $r['peer_read'] = fread($silent, 10);
    $r['peer_eof'] = feof($silent);
    fclose($silent);
    $r['next'] = tls_pair($srv, $mode);
    return $r;
}

if (PHP_SAPI === 'cli') {
    $out = $argv[1] === 'client' ? tls_client((int) $argv[2]) : tls_server($argv[1], (int) $argv[2], $argv[3], $argv[4]);
    echo json_encode($out), "\n";
    return;
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $mode = $q['mode'] ?? 'accept';
    $out = match (parse_url($req->getUri(), PHP_URL_PATH)) {
        '/server' => tls_server($mode, (int) ($q['port'] ?? 0), $q['crt'] ?? '', $q['key'] ?? ''),
        '/client' => tls_client((int) ($q['port'] ?? 0)),
        '/pair' => tls_pair(tls_listen($mode === 'accept' ? 'ssl' : 'tcp', $q['crt'] ?? '', $q['key'] ?? ''), $mode),
        '/cancel' => tls_cancel(tls_listen($mode === 'accept' ? 'ssl' : 'tcp', $q['crt'] ?? '', $q['key'] ?? ''), $mode),
        default => ['pong' => true],
    };
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
