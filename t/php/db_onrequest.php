<?php
// Issue 18: Doctrine DBAL and Eloquent, one connection each made at boot,
// in an HttpServer::onRequest() worker (t/trueasync/85_db_frameworks.t).
require __DIR__ . '/inc/db_frameworks.inc';

use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$dbal = db_boot();
HttpServer::onRequest(function (Request $req, Response $res) use ($dbal) {
    try {
        $out = db_request(parse_url($req->getUri(), PHP_URL_PATH), $req->getQueryParams(), $dbal);
    } catch (Throwable $e) {
        $out = ['error' => get_class($e) . ': ' . $e->getMessage()];
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
