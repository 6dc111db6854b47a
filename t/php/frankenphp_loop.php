<?php
// A worker script in FrankenPHP's own style: a frankenphp_handle_request()
// loop, superglobals, header(), echo; no FrankenPHP\ objects. After 40
// loops it leaves the loop, as Symfony Runtime's max-requests does.
$boot = bin2hex(random_bytes(4));
$loops = 0;
$handler = static function () use (&$loops, $boot) {
    header('Content-Type: text/plain');
    header("X-Boot: $boot");
    if (isset($_GET['ms'])) usleep((int) $_GET['ms'] * 1000);
    if (isset($_GET['finish'])) {
        echo "sent;";
        frankenphp_finish_request();
        echo "dropped";
        return;
    }
    if (isset($_GET['headers'])) {
        header('X-Set: 1');
        echo json_encode(['request' => frankenphp_request_headers()['X-Mine'] ?? null,
                          'response' => frankenphp_response_headers()['X-Set'] ?? null]);
        return;
    }
    echo "hello " . ($_GET['name'] ?? '') . " loops=$loops";
};
for ($n = 0; $n < 40; $n++) {
    $keep = \frankenphp_handle_request($handler);
    $loops++;
    gc_collect_cycles();
    if (!$keep) break;
}
