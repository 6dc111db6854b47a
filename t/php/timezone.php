<?php
// date_default_timezone_set() inside a request stays that request's
// (isolation): the worker's boot-time zone for every other request on the
// thread, during and after it.
use FrankenPHP\HttpServer;

date_default_timezone_set('UTC');       // the worker's own, at boot

HttpServer::onRequest(function ($req, $res) {
    $q = $req->getQueryParams();
    $o = ['start' => date_default_timezone_get()];
    if (isset($q['tz'])) {
        date_default_timezone_set($q['tz']);
        // a coroutine it spawns runs in its zone too
        $o['child'] = Async\await(Async\spawn(fn () => date_default_timezone_get()));
        Async\delay((int) ($q['ms'] ?? 0));
        $o['after_wait'] = date_default_timezone_get();
        $o['date_T'] = date('T', 0);
    }
    $res->write(json_encode($o));
});
