<?php
// The smallest handler (bench/hello.sh): it reads no superglobal and sets
// one header, so what a request costs is the module's own path.
FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    $res->setHeader('Content-Type', 'text/plain');
    $res->write('Hello world');
    $res->end();
});
