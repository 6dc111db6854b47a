<?php
// Uncaught exceptions in handlers (TrueAsyncThreads 1).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $q = $req->getQueryParams();
    if ($path === '/throw') {
        $tag = preg_replace('/[^A-Za-z0-9_-]/', '', (string)($q['tag'] ?? 'x'));
        throw new RuntimeException("ta-boom-$tag"); // THROW-LINE
    }
    if ($path === '/throw-after-write') {
        $tag = preg_replace('/[^A-Za-z0-9_-]/', '', (string)($q['tag'] ?? 'x'));
        $res->setStatus(200);
        Async\delay(10);
        throw new LogicException("ta-late-$tag"); // LATE-THROW-LINE
    }
    if ($path === '/slow') {
        Async\delay((int)($q['ms'] ?? 800));
        $res->write("slow done " . ($q['id'] ?? '') . "\n");
        $res->end();
        return;
    }
    $res->setHeader('Content-Type', 'text/plain');
    $res->write("ok " . ($q['id'] ?? '') . "\n");
    $res->end();
});
