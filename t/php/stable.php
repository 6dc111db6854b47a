<?php
// TrueAsyncThreads 4 under load: each answer is derived from the request so
// the client can verify it got its own response.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $n = (string)($q['n'] ?? '');
    $ms = (int)($q['ms'] ?? 0);
    if ($ms > 0) {
        Async\delay($ms);
    }
    $res->setHeader('Content-Type', 'text/plain');
    $res->setHeader('X-N', $n);
    $res->write("n=$n md5=" . md5("trueasync-$n") . "\n");
    $res->write(str_repeat($n . ',', 100) . "\n");
    $res->end();
});
