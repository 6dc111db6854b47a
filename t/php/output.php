<?php
// Output buffering per request (TrueAsyncThreads 1: every request here
// shares one PHP thread, so their coroutines interleave).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $id = $q['id'] ?? '-';
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/case':       // a script of inc/ob_cases, as PHP would run it
        $name = $q['name'] ?? '';
        if (!preg_match('/^[a-z]+$/', $name)) { $res->setStatus(404); return; }
        include __DIR__ . "/inc/ob_cases/$name.php";
        return;
    case '/hold':       // a buffer held open across a wait
        ob_start();
        echo "mine-$id";
        Async\delay((int) ($q['ms'] ?? 300));
        $x = ob_get_clean();
        echo "got[$x] level=", ob_get_level();
        return;
    case '/noise':      // output and buffers of another request meanwhile
        echo "LEAK-$id ";
        ob_start();
        echo "B-$id";
        Async\delay(50);
        ob_start();
        echo "C-$id";
        return;         // both left open: flushed into this response
    case '/level':
        echo ob_get_level();
        return;
    }
});
