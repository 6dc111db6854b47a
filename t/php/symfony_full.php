<?php
// Issue 18: the full-stack Symfony application of t/php/symfony_full/,
// booted ONCE per PHP thread and served the way runtime/frankenphp-symfony
// serves Symfony under FrankenPHP: the handler makes the Request from the
// superglobals, handle() and send(); terminate() runs after the loop call
// returned; the next handle() resets the kernel's services
// (services_resetter) before it starts.
require __DIR__ . '/symfony_full/bootstrap.php';

use Symfony\Component\HttpFoundation\Request;

$kernel = new TaFull\Kernel('prod', false);
$kernel->boot();
$boot = bin2hex(random_bytes(4));       // tells the tests which boot served
// what the worker's own environment adds to each request's $_SERVER
$env = array_filter($_SERVER, static fn (string $k): bool => !str_starts_with($k, 'HTTP_'), ARRAY_FILTER_USE_KEY);
$request = $response = null;
$handler = static function () use ($kernel, $env, $boot, &$request, &$response): void {
    $_SERVER += $env;
    $request = Request::createFromGlobals();
    $response = $kernel->handle($request);
    $response->headers->set('X-Worker-Boot', $boot);
    $response->send();
};
for (;;) {
    $more = frankenphp_handle_request($handler);
    if ($request && $response) $kernel->terminate($request, $response);
    $request = $response = null;
    gc_collect_cycles();
    if (!$more) break;
}
