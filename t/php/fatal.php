<?php
// Fatal errors in handlers (TrueAsyncThreads 1, memory_limit 32M).
// $GLOBALS['ta_boot'] changes each time the thread boots this script.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$GLOBALS['ta_boot'] = bin2hex(random_bytes(8));

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    if ($path === '/undef') {
        ta_this_function_does_not_exist(42); // UNDEF-LINE
        $res->write("unreachable\n");
        $res->end();
        return;
    }
    if ($path === '/oom') {
        $chunks = [];
        for ($i = 0; $i < 1000; $i++) {
            $chunks[] = str_repeat(chr(65 + $i % 26), 1024 * 1024); // OOM-LINE
        }
        $res->write("unreachable " . count($chunks) . "\n");
        $res->end();
        return;
    }
    $res->setHeader('Content-Type', 'text/plain');
    $res->write("ok boot=" . $GLOBALS['ta_boot'] . " limit=" . ini_get('memory_limit') . "\n");
    $res->end();
});
