<?php
// TrueAsyncMaxWaitTime 300, one thread: /busy computes for ?ms without
// suspending, so requests queued behind it wait; /count says how many
// requests PHP has seen.
$GLOBALS['seen'] = 0;
FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    $GLOBALS['seen']++;
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    if ($path === '/busy') {
        $until = hrtime(true) + (int)($req->getQueryParams()['ms'] ?? 1500) * 1000000;
        while (hrtime(true) < $until) {}
        $res->write("busy done\n");
    } elseif ($path === '/count') {
        $res->write("seen={$GLOBALS['seen']}\n");
    } else {
        $res->write("ok\n");
    }
    $res->end();
});
