<?php
// One PHP thread (TrueAsyncThreads 1): each request waits 200 ms with
// Async\delay and echoes its id, so overlapping requests prove that the
// coroutines run concurrently on that thread.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $id = (string)($q['id'] ?? '');
    $ms = (int)($q['ms'] ?? 200);
    $t0 = microtime(true);
    Async\delay($ms);
    $t1 = microtime(true);
    $res->setHeader('Content-Type', 'text/plain');
    $res->write(sprintf("id=%s start=%.4f end=%.4f pid=%d\n", $id, $t0, $t1, getmypid()));
    $res->end();
});
