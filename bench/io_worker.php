<?php
// bench/io.sh, mod_trueasync side: every request waits on a local upstream
// (20 ms), in unchanged blocking-style code. /io fetches it with PHP's HTTP
// stream wrapper (a new connection each time); /io-pool sends the request
// over a kept-alive connection from a per-thread pool, as a worker keeps its
// database or cache connections between requests.
FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    static $pool = [];
    $port = (int) ($req->getQueryParams()['up'] ?? 0);
    $res->setHeader('Content-Type', 'text/plain');
    if (parse_url($req->getUri(), PHP_URL_PATH) !== '/io-pool') {
        $res->write(file_get_contents("http://127.0.0.1:$port/"));
        return;
    }
    // Coroutines of one thread switch only while waiting: taking from and
    // giving back to the pool needs no lock.
    $conn = array_pop($pool) ?? stream_socket_client("tcp://127.0.0.1:$port", $errno, $errstr, 5);
    $res->write(upstream_get($conn));
    $pool[] = $conn;
});

function upstream_get($conn): string
{
    fwrite($conn, "GET / HTTP/1.1\r\nHost: upstream\r\nConnection: keep-alive\r\n\r\n");
    $len = 0;
    while (($line = fgets($conn)) !== false && $line !== "\r\n") {
        if (stripos($line, 'Content-Length:') === 0) $len = (int) substr($line, 15);
    }
    return $len > 0 ? fread($conn, $len) : '';
}
