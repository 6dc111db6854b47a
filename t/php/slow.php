<?php
// Slow and departed clients (TrueAsyncThreads 1, TrueAsyncBufferSize 3, Timeout 2).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$GLOBALS['boot'] = bin2hex(random_bytes(8));
$GLOBALS['ended'] = [];

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $id = $q['id'] ?? '-';
    $res->setHeader('Content-Type', 'text/plain');
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/big':        // 32 MiB in 64 KiB writes: each waits until Apache took the last
        try {
            $chunk = str_repeat('b', 65536);
            for ($i = 0; $i < 512; $i++) $res->write($chunk);
        } finally {
            $GLOBALS['ended'][] = $id;
        }
        return;
    case '/spin':       // never suspends
        try {
            $until = hrtime(true) + (int) ($q['ms'] ?? 1000) * 1000000;
            while (hrtime(true) < $until) { }
        } finally {
            $GLOBALS['ended'][] = $id;
        }
        $res->write("spun\n");
        return;
    case '/state':
        $res->write(json_encode(['boot' => $GLOBALS['boot'], 'ended' => $GLOBALS['ended']]));
        return;
    default:
        $res->write("ok $id\n");
    }
});
