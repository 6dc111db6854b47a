<?php
// Issue 18: the idiom of every worker-mode framework, in a
// frankenphp_handle_request() loop. A long-lived service holds "the
// current user" (as Symfony's TokenStorage, Laravel's auth guard); the
// handler sets it when its request starts, waits on I/O, then reads it
// back. FrankenPHP runs one request at a time inside the handler on a
// thread, so this code is correct there and must be here too.
final class CurrentUser
{
    public ?string $name = null;
}

$boot = bin2hex(random_bytes(4));       // which PHP thread (script boot) served
$tokens = new CurrentUser();
$inside = 0;                            // requests inside the handler now
$handler = static function () use ($tokens, $boot, &$inside) {
    $inside++;
    $peak = $inside;
    $t0 = microtime(true);
    $tokens->name = $_GET['user'] ?? '';
    usleep((int) ($_GET['ms'] ?? 100) * 1000);
    $peak = max($peak, $inside);
    header('Content-Type: application/json');
    echo json_encode(['asked' => $_GET['user'] ?? '', 'you_are' => $tokens->name, 'boot' => $boot,
                      'inside' => $peak, 'start' => $t0, 'end' => microtime(true)]);
    $inside--;
};
while (frankenphp_handle_request($handler)) {
    gc_collect_cycles();
}
