<?php
// Worker of a vhost that sets only TrueAsyncWorker: default TrueAsyncThreads
// (2) x default TrueAsyncBufferSize (20) = 40 requests held at once.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$GLOBALS['ta_thread_id'] = bin2hex(random_bytes(6));

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $q = $req->getQueryParams();
    $res->setHeader('Content-Type', 'text/plain');
    if ($path === '/hold') {
        Async\delay((int)($q['ms'] ?? 1500));
    }
    $res->write("id=" . ($q['id'] ?? '') . " thread=" . $GLOBALS['ta_thread_id'] . "\n");
    $res->end();
});
