<?php
// PHP's own behaviour at a request's edges (issue 19): /case/NAME includes
// inc/compat_cases/NAME.php, which t/trueasync/77_php_compat.t also runs
// under Debian's php-cgi with the same request and settings.
use FrankenPHP\HttpServer;

HttpServer::onRequest(function ($req, $res) {
    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
    if (preg_match('#^/case/(\w+)$#', $path, $m)) {
        include __DIR__ . "/inc/compat_cases/{$m[1]}.php";
        return;
    }
    if ($path === '/ini') {         // the settings php-cgi gets for the comparison
        $out = [];
        foreach (explode(',', $_GET['keys']) as $k) $out[$k] = ini_get($k);
        echo json_encode($out);
        return;
    }
    $res->setStatus(404);
});
