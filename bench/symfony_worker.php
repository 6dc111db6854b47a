<?php
// bench/frameworks.sh, mod_trueasync side: FrankenPHP's worker loop.
require __DIR__ . '/symfony_kernel.php';
$routes = bench_routes();
$handler = static function () use ($routes) { bench_handle($routes); };
while (frankenphp_handle_request($handler)) {}
