<?php
// bench/chaos.sh: the PHP routes served while Apache is restarted, its child
// killed, or other requests of the thread hit fatal errors.
//   /php/hello           answers at once
//   /php/wait            answers after 200 ms (in flight when a restart comes)
//   /php/fatal-redeclare compile-time fatal error ("Cannot redeclare")
//   /php/fatal-oom       memory_limit fatal error (the bench sets 32M)
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $res->setHeader('Content-Type', 'text/plain');
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/php/hello':
        $res->write("hello\n");
        break;
    case '/php/wait':
        Async\delay(200);
        $res->write("waited\n");
        break;
    case '/php/fatal-redeclare':
        eval('function strlen() {}');
        break;
    case '/php/fatal-oom':
        $keep = [];
        for ($i = 0; $i < 1000; $i++) {
            $keep[] = str_repeat('x', 1 << 20);
        }
        break;
    default:
        $res->setStatus(404);
        $res->write("no such route\n");
    }
    $res->end();
});
