<?php
// Client disconnect cancels the request's coroutine (TrueAsyncThreads 1).
// /hold?id=X waits 3 s; on cancellation the catch and finally blocks record
// it in a per-thread array that /probe?id=X reports.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$GLOBALS['ta_events'] = [];

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $id = preg_replace('/[^A-Za-z0-9_-]/', '', (string)($req->getQueryParams()['id'] ?? ''));
    if ($path === '/hold') {
        $GLOBALS['ta_events'][$id][] = 'started';
        try {
            Async\delay(3000);
            $GLOBALS['ta_events'][$id][] = 'completed';
            $res->write("completed\n");
            $res->end();
        } catch (Async\CancellationError $e) {
            $GLOBALS['ta_events'][$id][] = 'cancelled';
            throw $e;
        } finally {
            $GLOBALS['ta_events'][$id][] = 'finally';
        }
        return;
    }
    if ($path === '/probe') {
        $res->setHeader('Content-Type', 'application/json');
        $res->write(json_encode($GLOBALS['ta_events'][$id] ?? []));
        $res->end();
        return;
    }
    $res->write("ok\n");
    $res->end();
});
