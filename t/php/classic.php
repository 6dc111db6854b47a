<?php
// Plain PHP inside coroutines (issue 10): superglobals, header(), exit()...
// belong to the request. /case/NAME includes inc/classic_cases/NAME.php,
// which t/trueasync/63_classic_php.t also runs under Debian's php-cgi.
use FrankenPHP\HttpServer;

HttpServer::onRequest(function ($req, $res) {
    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
    if (preg_match('#^/case/(\w+)$#', $path, $m)) {
        include __DIR__ . "/inc/classic_cases/{$m[1]}.php";
        return;
    }
    if (str_starts_with($path, '/env')) $path = '/env';
    switch ($path) {
    case '/ini':            // the settings php-cgi gets for the comparison
        $out = [];
        foreach (explode(',', $_GET['keys']) as $k) $out[$k] = ini_get($k);
        echo json_encode($out);
        return;
    case '/talk':           // 50 at once on one thread: nothing of another's
        $id = $_GET['id'];
        session_start();
        $_SESSION['owner'] = $id;
        header("X-Id: $id");
        setcookie('seen', $id);
        http_response_code(200 + (int) substr($id, 1) % 4);
        ob_start();
        echo "<p>id=$id cookie={$_COOKIE['c']} post={$_POST['p']}";
        Async\delay(100);
        $_GET['late'] = $id;        // assigning changes only this request's
        echo " after id={$_GET['id']} late={$_GET['late']} cookie={$_COOKIE['c']} "
           . "qs={$_SERVER['QUERY_STRING']} hdr={$_SERVER['HTTP_X_TALK']} req={$_REQUEST['id']} "
           . "session={$_SESSION['owner']}</p>";
        $html = ob_get_clean();
        echo $html;
        return;
    case '/env':            // Apache's environment and CGI variables
        $keys = ['TA_FROM_SETENV', 'TA_FROM_REWRITE', 'SSL_PROTOCOL', 'SSL_CIPHER', 'REQUEST_SCHEME', 'REQUEST_URI', 'QUERY_STRING', 'SCRIPT_NAME',
                 'SCRIPT_FILENAME', 'PHP_SELF', 'DOCUMENT_ROOT', 'SERVER_NAME', 'SERVER_PORT',
                 'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'REMOTE_ADDR', 'REMOTE_PORT', 'REQUEST_SCHEME',
                 'GATEWAY_INTERFACE', 'HTTPS', 'HTTP_HOST', 'HTTP_X_SPOOF', 'HTTP_AUTHORIZATION'];
        $out = [];
        foreach ($keys as $k) $out[$k] = $_SERVER[$k] ?? null;
        $out['getallheaders'] = function_exists('getallheaders') ? getallheaders() : null;
        echo json_encode($out);
        return;
    case '/ini-hold':       // settings changed, held across a wait
        ini_set('precision', '4');
        ini_set('serialize_precision', '5');
        ini_set('default_charset', 'ISO-8859-1');
        ini_set('date.timezone', 'Asia/Tokyo');
        set_include_path('/tmp/ta-include');
        Async\delay((int) ($_GET['ms'] ?? 200));
        echo json_encode([(string) (1 / 3), ini_get('precision'), ini_get('default_charset'), date_default_timezone_get(),
                          get_include_path()]);
        return;
    case '/ini-peek':       // what another request sees meanwhile, and after
        echo json_encode([(string) (1 / 3), ini_get('precision'), ini_get('serialize_precision'),
                          ini_get('default_charset'), date_default_timezone_get(), get_include_path()]);
        return;
    case '/sess':           // a counter in the request's session, held across a wait
        session_start();
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        $n = $_SESSION['n'];
        Async\delay((int) ($_GET['ms'] ?? 0));
        echo json_encode(['id' => session_id(), 'n' => $n, 'after' => $_SESSION['n'], 'status' => session_status()]);
        return;
    case '/nosess':         // what a request without a session sees meanwhile
        echo json_encode(['status' => session_status(), 'id' => session_id(), 'session' => $_SESSION ?? null]);
        return;
    case '/early':         // 103 Early Hints, then the final response
        header('Link: </style.css>; rel=preload; as=style');
        $first = headers_send(103);
        Async\delay(100);
        header('X-Final: 1');
        echo "final after $first";
        return;
    case '/late-hints':     // once the head went out, nothing more to send
        echo "x";
        echo '|', @headers_send(103);
        return;
    case '/send':           // Apache serves the file
        try {
            $res->sendFile(__DIR__ . '/sendfile/' . $_GET['f'], $_GET['type'] ?? null);
            echo "never seen";
        } catch (RuntimeException $e) {
            echo get_class($e), ': ', $e->getMessage();
        }
        return;
    case '/flush':          // flush(), then computing without suspending
        echo "first;";
        flush();
        $t = microtime(true);
        while (microtime(true) - $t < 0.4) {}
        echo "second";
        return;
    case '/rewrite-hold':   // a rewrite var held across a wait
        output_add_rewrite_var('secret', $_GET['v']);
        Async\delay(200);
        echo '<form action="/mine"></form>';
        return;
    case '/links':          // another request's links meanwhile
        echo '<form action="/theirs"></form>';
        return;
    case '/gz-hold':        // ob_gzhandler held across a wait
        ob_start('ob_gzhandler');
        echo str_repeat("{$_GET['id']};", 300);
        Async\delay(150);
        echo "end-{$_GET['id']}";
        return;
    case '/plain':          // what a request sees when nobody set anything
        echo json_encode([$_GET, $_POST, $_COOKIE, http_response_code(), headers_sent(), count(headers_list())]);
        return;
    case '/spawned':        // a spawned coroutine sees its request's globals
        $c = Async\spawn(function () { Async\delay(20); return $_GET['v'] . '/' . $_SERVER['HTTP_X_V']; });
        header('X-Spawned: ' . Async\await($c));
        echo 'ok';
        return;
    case '/exit-spawned':   // exit() in a spawned coroutine ends only it
        $c = Async\spawn(function () { echo "child;"; exit(); });
        Async\await($c);
        echo 'parent goes on';
        return;
    }
    http_response_code(404);
    echo "no route $path\n";
});
