<?php
// mt_srand() inside a request seeds that request's own generator
// (isolation): its sequence is the seed's, whatever others draw meanwhile.
use FrankenPHP\HttpServer;

HttpServer::onRequest(function ($req, $res) {
    $q = $req->getQueryParams();
    $o = [];
    if (isset($q['seed'])) {
        mt_srand((int) $q['seed']);
        $o['seq'][] = mt_rand();
        Async\delay((int) ($q['ms'] ?? 0));
        $o['seq'][] = mt_rand();
        $o['seq'][] = Async\await(Async\spawn(fn () => mt_rand()));     // its coroutines draw from it too
        $o['seq'][] = rand();
    } else {
        $o['draw'] = [mt_rand(), mt_rand()];
    }
    $res->write(json_encode($o));
});
