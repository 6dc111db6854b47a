<?php
// bench/symfony_full.sh, mod_php and php-fpm side: the classic front
// controller of the application in t/php/symfony_full/ (a kernel per request).
require __DIR__ . '/../t/php/symfony_full/bootstrap.php';

use Symfony\Component\HttpFoundation\Request;

$kernel = new TaFull\Kernel('prod', false);
$request = Request::createFromGlobals();
$response = $kernel->handle($request);
$response->send();
$kernel->terminate($request, $response);
