<?php
// Example mod_trueasync worker. Booted once per PHP thread; every request
// then runs the callback below as its own coroutine, so a request waiting
// in Async\delay() (or on I/O) does not hold up the others on its thread.

use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

set_time_limit(0);

// State here lives as long as the thread, shared by all its requests.
$booted = date(DATE_ATOM);
$served = 0;

function send_json(Response $res, int $status, array $data): void
{
    $res->setStatus($status);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($data, JSON_UNESCAPED_SLASHES | JSON_PRETTY_PRINT) . "\n");
    $res->end();
}

HttpServer::onRequest(function (Request $req, Response $res) use ($booted, &$served) {
    $served++;
    $path = parse_url($req->getUri(), PHP_URL_PATH) ?: '/';
    // Served below a prefix (Debian's trueasync.conf: /trueasync), the
    // routes are under it.
    $base = rtrim($_SERVER['TRUEASYNC_BASE'] ?? '', '/');
    if ($base !== '' && str_starts_with($path, $base)) {
        $path = substr($path, strlen($base)) ?: '/';
    }

    switch ($path) {
    case '/':
        send_json($res, 200, [
            'message' => 'Hello from mod_trueasync!',
            'method' => $req->getMethod(),
            'uri' => $req->getUri(),
            'user_agent' => $req->getHeader('User-Agent'),
            'worker_booted' => $booted,
            'served_by_this_thread' => $served,
        ]);
        return;

    case '/info':
        // Which PHP serves, and whether its php.ini and opcache are in use.
        $opcache = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
        send_json($res, 200, [
            'php_version' => PHP_VERSION,
            'zts' => PHP_ZTS === 1,
            'php_ini' => php_ini_loaded_file(),
            'memory_limit' => ini_get('memory_limit'),
            'opcache_enabled' => is_array($opcache) && $opcache['opcache_enabled'],
            'extensions' => get_loaded_extensions(),
        ]);
        return;

    case '/hello':
        // Fixed body used by bench/run.sh against an identical static file.
        $res->setHeader('Content-Type', 'text/plain');
        $res->write('Hello, World!');
        $res->end();
        return;

    case '/stream':
        // Each write() reaches the client as it is made (chunked encoding).
        $res->setHeader('Content-Type', 'text/plain');
        for ($i = 1; $i <= 5; $i++) {
            $res->write("chunk $i of 5 at " . date('H:i:s') . "\n");
            if ($i < 5) {
                Async\delay(200);
            }
        }
        $res->end();
        return;

    case '/sleep':
        // Coroutine-aware sleep: other requests keep running meanwhile.
        $ms = max(0, min(10000, (int)($req->getQueryParams()['ms'] ?? 100)));
        $t0 = hrtime(true);
        Async\delay($ms);
        send_json($res, 200, [
            'requested_ms' => $ms,
            'slept_ms' => round((hrtime(true) - $t0) / 1e6, 1),
        ]);
        return;

    case '/form':
        // POST application/x-www-form-urlencoded or multipart/form-data.
        $files = [];
        foreach ($req->getUploadedFiles() as $field => $upload) {
            // A field named like "docs[]" carries a list of files.
            foreach (is_array($upload) ? $upload : [$upload] as $file) {
                $files[$field][] = [
                    'name' => $file->getName(),
                    'type' => $file->getType(),
                    'size' => $file->getSize(),
                    'error' => $file->getError(),
                ];
            }
        }
        send_json($res, 200, [
            'method' => $req->getMethod(),
            'content_type' => $req->getHeader('Content-Type'),
            'fields' => $req->getParsedBody(),
            'files' => $files,
        ]);
        return;

    default:
        send_json($res, 404, ['error' => 'Not Found', 'uri' => $req->getUri()]);
    }
});
