<?php
// Vhost without TrueAsyncRetryAfter / TrueAsyncPHPIni: it inherits the main
// server's values (RetryAfter 7, default_socket_timeout 77).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $q = $req->getQueryParams();
    $res->setHeader('Content-Type', 'text/plain');
    if ($path === '/hold') {
        Async\delay((int)($q['ms'] ?? 1500));
        $res->write("held\n");
    } else {
        $res->write("default_socket_timeout=" . ini_get('default_socket_timeout') . "\n");
    }
    $res->end();
});
