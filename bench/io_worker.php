<?php
// bench/io.sh, mod_trueasync side: every request waits on a local upstream
// (20 ms) through PHP's HTTP stream wrapper, unchanged blocking-style code.
FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    $port = getenv('TA_UPSTREAM_PORT') ?: ($req->getQueryParams()['up'] ?? '0');
    $res->setHeader('Content-Type', 'text/plain');
    $res->write(file_get_contents("http://127.0.0.1:$port/"));
});
