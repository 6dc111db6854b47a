<?php
// TrueAsyncRequestTimeout 1 (TrueAsyncThreads 1): every request shares the
// one thread. /spin never suspends; /wait and /spawn wait (their finally
// blocks record into a per-thread list that /events reports); /long/* has
// a 10 s timeout and /stream/* none (per-location values); /boot names
// this boot of the script.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$GLOBALS['boot'] = bin2hex(random_bytes(8));
$GLOBALS['events'] = [];

function note(string $id, string $what): void { $GLOBALS['events'][$id][] = $what; }

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = parse_url($req->getUri(), PHP_URL_PATH);
    $q = $req->getQueryParams();
    $id = preg_replace('/[^A-Za-z0-9_-]/', '', (string)($q['id'] ?? ''));
    switch ($path) {
    case '/spin':
        while (true) {}
    case '/write-spin':
        $res->write("begun\n");
        while (true) {}
    case '/wait':
        note($id, 'started');
        try {
            Async\delay(5000);
            note($id, 'completed');
        } catch (Async\CancellationError $e) {
            note($id, 'cancelled');
            throw $e;
        } finally {
            note($id, 'finally');
        }
        break;
    case '/spawn':
        $child = Async\spawn(function () use ($id) {
            try { Async\delay(5000); note($id, 'child completed'); }
            finally { note($id, 'child finally'); }
        });
        Async\await($child);
        break;
    case '/long/delay':
    case '/stream/delay':
        Async\delay((int)($q['ms'] ?? 500));
        $res->write("delayed {$GLOBALS['boot']}\n");
        break;
    case '/events':
        $res->setHeader('Content-Type', 'application/json');
        $res->write(json_encode($GLOBALS['events'][$id] ?? []));
        break;
    default:
        $res->write("boot={$GLOBALS['boot']}\n");
    }
    $res->end();
});
