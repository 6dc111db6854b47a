<?php
// TrueAsyncWatch (74_watch.t copies this file and watch_lib.php and edits
// the library's version): answers with the library's version and the pid.
require __DIR__ . '/watch_lib.php';
FrankenPHP\HttpServer::onRequest(function ($req, $res) {
    $res->write(ta_watch_version() . ' pid=' . getmypid() . "\n");
});
