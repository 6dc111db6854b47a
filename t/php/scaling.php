<?php
// TrueAsyncThreads MIN MAX (issue 23): a frankenphp_handle_request() loop
// (one request at a time per thread) whose handler waits ?ms= ms and
// answers with the id of the thread's boot, so a test sees how many threads
// served.
$boot = bin2hex(random_bytes(4));
$handler = static function () use ($boot) {
    $ms = (int) ($_GET['ms'] ?? 0);
    if ($ms > 0) usleep($ms * 1000);
    header('Content-Type: text/plain');
    echo "ok $boot";
};
while (frankenphp_handle_request($handler)) {
    gc_collect_cycles();
}
