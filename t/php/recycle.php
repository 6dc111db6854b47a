<?php
// Recycling (TrueAsyncMaxRequests / TrueAsyncMaxMemory): each boot has its
// own id; /grow keeps 1 MiB more per request for as long as the boot lives.
$GLOBALS['boot'] = bin2hex(random_bytes(8));
$GLOBALS['kept'] = [];
FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    if (parse_url($req->getUri(), PHP_URL_PATH) === '/grow') $GLOBALS['kept'][] = str_repeat('k', 1 << 20);
    Async\delay(1);
    $res->write("boot={$GLOBALS['boot']} kept=" . count($GLOBALS['kept']));
});
