<?php
// bench/async_db.sh, mod_trueasync: one PDO per PHP thread, made at boot
// with TrueAsync's pool (each request's coroutine borrows a connection of
// its own; the query waits on the reactor), at most TA_PG_POOL connections.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

require __DIR__ . '/async_db_query.php';

$db = async_db_connect([
    PDO::ATTR_POOL_ENABLED => true,
    PDO::ATTR_POOL_MAX => (int) (getenv('TA_PG_POOL') ?: 16),
]);
HttpServer::onRequest(function (Request $req, Response $res) use ($db) {
    $res->setHeader('Content-Type', 'application/json');
    $res->write(async_db_row($db));
});
