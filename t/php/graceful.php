<?php
// Graceful restart/stop (52_graceful.t copies this file and edits VERSION).
// /slow?ms=N waits N ms; its finally block appends to $LOG (a file named by
// the TA_GRACEFUL_LOG environment variable) so a test sees it ran.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

const VERSION = 'v1';
$GLOBALS['log'] = getenv('TA_GRACEFUL_LOG') ?: '/dev/null';

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $id = $q['id'] ?? '-';
    $res->setHeader('Content-Type', 'text/plain');
    if (parse_url($req->getUri(), PHP_URL_PATH) === '/slow') {
        try {
            Async\delay((int) ($q['ms'] ?? 1000));
            $res->write(VERSION . " done $id pid=" . getmypid() . "\n");
        } finally {
            file_put_contents($GLOBALS['log'], "finally $id\n", FILE_APPEND);
        }
        return;
    }
    if (parse_url($req->getUri(), PHP_URL_PATH) === '/spin') {   // never suspends
        try {
            $until = hrtime(true) + (int) ($q['ms'] ?? 1000) * 1000000;
            while (hrtime(true) < $until) { }
        } finally {
            file_put_contents($GLOBALS['log'], "finally $id\n", FILE_APPEND);
        }
        return;
    }
    $res->write(VERSION . " pid=" . getmypid() . "\n");
});
