<?php
// A worker script in FrankenPHP's own style: a frankenphp_handle_request()
// loop, superglobals, header(), echo; no FrankenPHP\ objects. After 40
// loops it leaves the loop, as Symfony Runtime's max-requests does.
class MemorySessions implements SessionHandlerInterface
{
    public static array $data = [];
    public static int $writes = 0;
    public function open(string $path, string $name): bool { return true; }
    public function close(): bool { return true; }
    public function read(string $id): string|false { return self::$data[$id] ?? ''; }
    public function write(string $id, string $data): bool { self::$data[$id] = $data; self::$writes++; return true; }
    public function destroy(string $id): bool { unset(self::$data[$id]); return true; }
    public function gc(int $max): int|false { return 0; }
}

$boot = bin2hex(random_bytes(4));
$loops = 0;
// how many requests were inside the handler at once, at most (FrankenPHP's
// contract: one, unless TrueAsyncMaxConcurrency allows more)
$running = 0;
$most = 0;
// a long-lived service holding "the current user", as Symfony's
// TokenStorage or Laravel's auth guard do in worker mode
$tokens = new class { public ?string $user = null; };
$handler = static function () use (&$loops, $boot, &$running, &$most, $tokens) {
    $running++;
    $most = max($most, $running);
    try {
        if (isset($_GET['user'])) {
            $tokens->user = $_GET['user'];
            usleep(50000);
            echo 'you are ' . $tokens->user;
            return;
        }
        serve($loops, $boot, $most);
    } finally {
        $running--;
    }
};
function serve(int $loops, string $boot, int &$most): void
{
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
    if (isset($_GET['sess'])) {
        // FrankenPHP's contract: a loop's session set-up (handler, session.*)
        // made by one request stays for the later ones, as frameworks make it once
        if ($_GET['sess'] === 'setup') {
            session_name('LOOPSESS');
            session_set_save_handler(new MemorySessions(), true);
        }
        session_start();
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        echo json_encode(['name' => session_name(), 'n' => $_SESSION['n'], 'writes' => MemorySessions::$writes]);
        return;
    }
    if (isset($_GET['most'])) {
        echo $most;
        $most = 1;
        return;
    }
    if (isset($_GET['spawn'])) {
        // inside its request the handler's coroutines still run at once
        $t0 = microtime(true);
        $cs = [];
        for ($i = 0; $i < 3; $i++) $cs[] = Async\spawn(function () use ($i) { usleep(200000); return $i; });
        $r = Async\await_all_or_fail($cs);
        printf('%s %.3f', implode(',', $r), microtime(true) - $t0);
        return;
    }
    echo "hello " . ($_GET['name'] ?? '') . " loops=$loops";
}
for ($n = 0; $n < 40; $n++) {
    $keep = \frankenphp_handle_request($handler);
    $loops++;
    gc_collect_cycles();
    if (!$keep) break;
}
