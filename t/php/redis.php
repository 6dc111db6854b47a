<?php
// Worker for t/trueasync/84_redis.t (one PHP thread): phpredis inside
// coroutines. ?port= names the test's redis-server.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

require __DIR__ . '/inc/together.php';

HttpServer::onRequest(function (Request $req, Response $res) {
    $q = $req->getQueryParams();
    $port = (int) ($q['port'] ?? 0);
    $id = (int) ($q['id'] ?? 0);
    $out = [];
    $t0 = together($q, 5);
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/blpop':
        // BLPOP with a 0.3 s timeout on an empty list (phpredis 5 takes
        // whole seconds only: the raw command carries the fraction);
        // ?push=1 pushes first, so the answer is the request's own
        $r = new Redis();
        $r->connect('127.0.0.1', $port, 2.0);
        $key = "ta_list_$id";
        if (!empty($q['push'])) $r->rPush($key, "v$id");
        $out['got'] = $r->rawCommand('BLPOP', $key, '0.3') ?: null;   // timed out: an empty reply
        // phpredis' own blPop(), its whole-second timeout
        if (!empty($q['plain'])) $out['plain'] = $r->blPop([$key], 1) ?: null;
        $r->close();
        break;
    case '/xread':
        // XREAD BLOCK 300 on a stream nothing is added to
        $r = new Redis();
        $r->connect('127.0.0.1', $port, 2.0);
        $out['got'] = $r->xRead(["ta_stream_$id" => '$'], 1, 300) ?: null;
        $r->close();
        break;
    case '/subscribe':
        // SUBSCRIBE until the first message; /publish sends it
        $r = new Redis();
        $r->connect('127.0.0.1', $port, 2.0);
        $r->setOption(Redis::OPT_READ_TIMEOUT, 1);
        try {
            // phpredis 5.3 leaves subscribe() only by an error: after
            // unsubscribe() in the callback, its read times out (as in the CLI)
            $r->subscribe(["ta_chan_$id"], function ($redis, $chan, $msg) use (&$out) {
                $out['got'] = $msg;
                $redis->unsubscribe([$chan]);
            });
        } catch (RedisException $e) {
            $out['left'] = get_class($e);
        }
        break;
    case '/publish':
        // once the subscriber is subscribed (its request may start late on
        // a loaded machine), as long as it takes up to 3 s
        $r = new Redis();
        $r->connect('127.0.0.1', $port, 2.0);
        for ($i = 0; $i < 60 && !($r->pubsub('numsub', ["ta_chan_$id"])["ta_chan_$id"] ?? 0); $i++) Async\delay(50);
        $out['waited_ms'] = $i * 50;
        $out['receivers'] = $r->publish("ta_chan_$id", "m$id");
        break;
    case '/session':
        ini_set('session.save_handler', 'redis');
        ini_set('session.save_path', "tcp://127.0.0.1:$port");
        session_start();
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        $out = ['sid' => session_id(), 'n' => $_SESSION['n'], 'handler' => ini_get('session.save_handler')];
        session_write_close();
        break;
    case '/shared_init':
        // one Redis object for all later /shared requests, as an app makes at boot
        $GLOBALS['shared_redis'] = new Redis();
        $GLOBALS['shared_redis']->connect('127.0.0.1', $port, 2.0);
        break;
    case '/shared':
        // commands from many coroutines on one socket: each gets its own
        // answers; a MULTI is its coroutine's until EXEC (or, ?open=1, is
        // left open at the end of the request)
        $r = $GLOBALS['shared_redis'];
        $r->set("ta_sh_$id", "v$id");
        Async\delay(random_int(0, 5));
        $out['get'] = $r->get("ta_sh_$id");
        $r->multi();
        $r->incr("ta_cnt_$id");
        $r->get("ta_sh_$id");
        if (empty($q['open'])) $out['exec'] = $r->exec();
        else $r->set("ta_open_$id", 'x');
        break;
    case '/locked':
        // phpredis' session locking on; ?sid= names the session (whose
        // lock the test may hold as another server would), ?hold= ms of
        // work inside it
        ini_set('session.save_handler', 'redis');
        ini_set('session.save_path', "tcp://127.0.0.1:$port");
        ini_set('redis.session.locking_enabled', '1');
        ini_set('redis.session.lock_wait_time', '400000');   // 0.4 s between tries
        ini_set('redis.session.lock_retries', '10');
        if (isset($q['sid'])) session_id((string) $q['sid']);
        session_start();
        $out['got_lock'] = microtime(true);
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        $out['n'] = $_SESSION['n'];
        Async\delay((int) ($q['hold'] ?? 0));
        session_write_close();
        break;
    case '/nap':
        Async\delay(20);
        $out['handler'] = ini_get('session.save_handler');
        break;
    }
    $out['start'] = $t0;
    $out['end'] = microtime(true);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
