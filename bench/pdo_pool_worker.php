<?php
// bench/symfony_full.sh, the PDO part: one short query per request,
//   /new     a new PDO connection per request (what is safe without a pool)
//   /pool    one PDO made at boot with TrueAsync's pool (PDO::ATTR_POOL_ENABLED):
//            each coroutine borrows a physical connection of its own
//   /shared  one PDO made at boot, no pool: concurrent coroutines take turns
//   /info    which of these this build has
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

$dsn = 'mysql:host=127.0.0.1;port=' . (int) getenv('TA_MARIADB_PORT');
$opts = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION];
$hasPool = defined('PDO::ATTR_POOL_ENABLED');
$pool = $hasPool ? new PDO($dsn, 'root', '', $opts + [constant('PDO::ATTR_POOL_ENABLED') => true,
                                                      constant('PDO::ATTR_POOL_MAX') => 64]) : null;
$shared = new PDO($dsn, 'root', '', $opts);
HttpServer::onRequest(function (Request $req, Response $res) use ($dsn, $opts, $pool, $shared, $hasPool) {
    $res->setHeader('Content-Type', 'text/plain');
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/info':
        $res->write($hasPool ? 'pool' : 'no-pool');
        return;
    case '/new':
        $db = new PDO($dsn, 'root', '', $opts);
        break;
    case '/pool':
        $db = $pool;
        break;
    default:
        $db = $shared;
    }
    $res->write('one=' . $db->query('SELECT 1')->fetchColumn());
});
