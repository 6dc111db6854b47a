<?php
// t/trueasync/90_no_filesystem.t: says who answered, and what Apache mapped.
FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    $res->setHeader('Content-Type', 'text/plain');
    $res->write('worker ' . $req->getMethod() . ' ' . $req->getUri()
        . ' path_info=' . ($_SERVER['PATH_INFO'] ?? '-'));
    $res->end();
});
