<?php
// TrueAsyncThreads 1, TrueAsyncBufferSize 1: one request in flight at most.
// /hold keeps the only slot for ~1.5 s; /count reports how many requests
// PHP has seen (a request rejected with 503 by Apache must not be counted).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$GLOBALS['ta_seen'] = 0;

HttpServer::onRequest(function (Request $req, Response $res) {
    $GLOBALS['ta_seen']++;
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $q = $req->getQueryParams();
    $res->setHeader('Content-Type', 'text/plain');
    if ($path === '/hold') {
        Async\delay((int)($q['ms'] ?? 1500));
        $res->write("held " . ($q['id'] ?? '') . "\n");
    } elseif ($path === '/count') {
        $res->write("seen=" . $GLOBALS['ta_seen'] . "\n");
    } else {
        $res->write("ok " . ($q['id'] ?? '') . "\n");
    }
    $res->end();
});
