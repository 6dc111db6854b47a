<?php
// Worker for t/trueasync/82_extensions.t (2 PHP threads): the shared
// extensions of the module's PHP inside requests, both threads at once.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

require __DIR__ . '/inc/ext_cases.php';

// this thread, as APCu (one cache per Apache child) sees it
$token = bin2hex(random_bytes(4));
apcu_store('boot:' . getmypid() . ":$token", 1);

HttpServer::onRequest(function (Request $req, Response $res) use ($token) {
    $q = $req->getQueryParams();
    $out = ['pid' => getmypid(), 'token' => $token];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/cases':
        // ?rounds=N: keep the thread busy in the extensions long enough
        // for the other thread to be in them too
        $out['start'] = microtime(true);
        for ($i = 0, $n = max(1, (int) ($q['rounds'] ?? 1)); $i < $n; $i++) {
            $cases = ext_cases(sys_get_temp_dir());
            if ($i === 0) $first = $cases;
            elseif ($cases !== $first) { $out['unstable'] = $i; break; }
        }
        $out['end'] = microtime(true);
        $out['cases'] = $first;
        break;
    case '/apcu/boots':
        $seen = [];
        foreach (new APCUIterator('/^boot:' . getmypid() . ':/') as $e) $seen[] = explode(':', $e['key'])[2];
        sort($seen);
        $out['boots'] = $seen;
        break;
    case '/apcu/set':
        apcu_store('shared:' . $q['k'], ['v' => $q['v'], 'by' => $token]);
        break;
    case '/apcu/get':
        $out['got'] = apcu_fetch('shared:' . $q['k']);
        break;
    case '/loaded':
        $out['loaded'] = get_loaded_extensions();
        $out['scanned'] = php_ini_scanned_files();
        break;
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
