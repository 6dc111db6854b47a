<?php
// Issue 18: an HttpServer::onRequest() worker whose requests count how
// many of them are in the handler at once on this thread. With the
// default every request that waits lets the next one in; with
// TrueAsyncMaxConcurrency 1 the next starts only once one has ended.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$inside = 0;
HttpServer::onRequest(function (Request $req, Response $res) use (&$inside) {
    $inside++;
    $peak = $inside;
    $t0 = microtime(true);
    usleep((int) ($req->getQueryParams()['ms'] ?? 100) * 1000);
    $peak = max($peak, $inside);
    $inside--;
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode(['inside' => $peak, 'start' => $t0, 'end' => microtime(true)]));
});
