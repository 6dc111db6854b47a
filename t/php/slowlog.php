<?php
// TrueAsyncSlowlogTimeout 200: /slow computes 600 ms in burn() without
// suspending; /write-spin writes a chunk, then computes 500 ms, then writes
// another (the first must reach the client at once).
function burn(int $ms): void
{
    $until = hrtime(true) + $ms * 1000000;
    while (hrtime(true) < $until) {} // burn-line
}

FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    if ($path === '/slow') {
        burn(600);
        $res->write("slow done\n");
    } elseif ($path === '/write-spin') {
        $res->write("first\n");
        burn(500);
        $res->write("second\n");
    } elseif ($path === '/write-end') {
        $res->write("all at once\n");
    } else {
        $res->write("ok\n");
    }
    $res->end();
});
