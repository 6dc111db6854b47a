<?php
// chdir() inside a request stays that request's (isolation): ZTS PHP's
// working directory is the thread's, shared by its interleaved requests.
use FrankenPHP\HttpServer;

chdir('/tmp');                          // the worker's own, at boot

HttpServer::onRequest(function ($req, $res) {
    $q = $req->getQueryParams();
    $o = ['start' => getcwd()];
    if (isset($q['to'])) {
        chdir($q['to']);
        $o['child'] = Async\await(Async\spawn(fn () => getcwd()));
        Async\delay((int) ($q['ms'] ?? 0));
        $o['after_wait'] = getcwd();
        $o['relative'] = file_exists('cwd.php');     // relative paths follow it
    }
    $res->write(json_encode($o));
});
