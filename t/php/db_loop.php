<?php
// Issue 18: Doctrine DBAL and Eloquent, one connection each made at boot,
// in a frankenphp_handle_request() loop (t/trueasync/85_db_frameworks.t).
require __DIR__ . '/inc/db_frameworks.inc';

$dbal = db_boot();
$handler = static function () use ($dbal) {
    header('Content-Type: application/json');
    try {
        $out = db_request(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH), $_GET, $dbal);
    } catch (Throwable $e) {
        $out = ['error' => get_class($e) . ': ' . $e->getMessage()];
    }
    echo json_encode($out);
};
while (frankenphp_handle_request($handler)) {
    gc_collect_cycles();
}
