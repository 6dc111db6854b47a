<?php
// Worker for t/trueasync/44_mysql.t: database clients on one PHP thread.
// mysqlnd talks through PHP stream sockets, so PDO and mysqli yield.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $port = (int) ($q['port'] ?? 0);
    $id = (int) ($q['id'] ?? 0);
    $out = [];
    // ?together=N: wait (up to 3 s) until N requests of the batch have
    // arrived, so all their queries start at once however slowly the
    // test's clients come in; the thread serves the others meanwhile.
    static $arrived = [];
    if (($n = (int) ($q['together'] ?? 0)) > 0) {
        $batch = (string) ($q['batch'] ?? '');
        $arrived[$batch] = ($arrived[$batch] ?? 0) + 1;
        $deadline = microtime(true) + 3;
        while ($arrived[$batch] < $n && microtime(true) < $deadline) Async\delay(5);
    }
    $t0 = microtime(true);
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/pdo':
        $db = new PDO("mysql:host=127.0.0.1;port=$port", 'root', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        // The answer carries the request's own id: no answer may reach
        // another request.
        $st = $db->prepare('SELECT SLEEP(0.2) AS s, ? AS id, CONNECTION_ID() AS conn');
        $st->execute([$id]);
        $row = $st->fetch(PDO::FETCH_ASSOC);
        $out = ['id' => (int) $row['id'], 'slept' => (int) $row['s'], 'conn' => (int) $row['conn']];
        break;
    case '/mysqli':
        $db = new mysqli('127.0.0.1', 'root', '', '', $port);
        $r = $db->query('SELECT SLEEP(0.2) AS s, ' . $id . ' AS id');
        $row = $r->fetch_assoc();
        $out = ['id' => (int) $row['id'], 'slept' => (int) $row['s']];
        break;
    case '/error':
        try {
            $db = new PDO("mysql:host=127.0.0.1;port=$port", 'root', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
            $db->query('SELECT * FROM no_such_db.no_such_table');
            $out = ['thrown' => false];
        } catch (PDOException $e) {
            $out = ['thrown' => true, 'code' => $e->getCode()];
        }
        break;
    }
    $out['start'] = $t0;
    $out['end'] = microtime(true);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
