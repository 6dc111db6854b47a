<?php
// Worker for t/trueasync/91_two_servers.t: one of two backends behind a
// balancer. Sessions are in Redis (TrueAsyncPHPIni session.save_handler
// redis), the backend's name is Apache's environment (SetEnv TA_BACKEND).
// /count adds one to the session's counter, waits ?ms= with the session
// open (so a stop finds sessions not yet written) and answers in JSON.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $t0 = microtime(true);
    $ms = (int) ($req->getQueryParams()['ms'] ?? 0);
    session_start();
    $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
    if ($ms > 0) Async\delay($ms);
    $out = [
        'backend' => $_SERVER['TA_BACKEND'] ?? '?',
        'pid' => getmypid(),
        'sid' => session_id(),
        'n' => $_SESSION['n'],
        'handler' => ini_get('session.save_handler'),
        'start' => $t0,
    ];
    session_write_close();
    $out['end'] = microtime(true);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
