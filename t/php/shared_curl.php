<?php
// Worker for t/trueasync/94_shared_curl.t: curl handles made once at boot
// and reused by every request (an SDK's client, as Stripe's CurlClient and
// Symfony's CurlHttpClient keep them), used by concurrent requests of one
// thread. The upstream's port comes with each request (?port=).
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;
use function Async\{spawn, await, delay};

// One handle for the plain routes, one for the Stripe-like client, one
// multi handle; made outside coroutines, as a worker's boot does.
$shared = curl_init();
curl_setopt($shared, CURLOPT_RETURNTRANSFER, true);
$stripe = curl_init();
$victim = curl_init();      // for the fatal error test alone
curl_setopt($victim, CURLOPT_RETURNTRANSFER, true);
$multi = curl_multi_init();
$multiDone = [];        // easy handle id => true, whoever read its message

$bootShared = spl_object_id($shared);

// Symfony's CurlHttpClient (Debian's php-symfony-http-client), made at boot:
// one multi handle for every request.
$sfPath = stream_resolve_include_path('Symfony/Component/HttpClient/autoload.php');
if ($sfPath) require_once $sfPath;
$symfony = $sfPath ? new Symfony\Component\HttpClient\CurlHttpClient() : null;

function result(CurlHandle $ch, $body): array
{
    return ['body' => $body, 'errno' => curl_errno($ch), 'error' => curl_error($ch),
            'url' => curl_getinfo($ch, CURLINFO_EFFECTIVE_URL),
            'code' => curl_getinfo($ch, CURLINFO_RESPONSE_CODE)];
}

// The shared handle in one of three write modes, each set by the request
// itself while other requests' transfers may be running.
function shared_get(CurlHandle $ch, string $url, string $mode): array
{
    curl_setopt($ch, CURLOPT_URL, $url);
    switch ($mode) {
    case 'file':
        $f = tmpfile();
        curl_setopt($ch, CURLOPT_FILE, $f);
        $ok = curl_exec($ch);
        $r = result($ch, null);
        // the handle lets go of the file before it is closed (else PHP
        // turns the next transfer's output to stdout, sequential code too)
        curl_setopt($ch, CURLOPT_FILE, null);
        curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
        rewind($f);
        $r['body'] = $ok === false ? false : stream_get_contents($f);
        fclose($f);
        return $r;
    case 'fn':
        $got = '';
        curl_setopt($ch, CURLOPT_WRITEFUNCTION, function ($h, $data) use (&$got) { $got .= $data; return strlen($data); });
        $ok = curl_exec($ch);
        $r = result($ch, $ok === false ? false : $got);
        curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
        return $r;
    default:
        curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
        return result($ch, curl_exec($ch));
    }
}

// Stripe's CurlClient: reset, the whole option set, exec, getinfo/errno.
function stripe_like(CurlHandle $ch, string $url, string $id): array
{
    curl_reset($ch);
    curl_setopt_array($ch, [CURLOPT_URL => $url, CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 10,
                            CURLOPT_HTTPHEADER => ["X-Id: $id"], CURLOPT_HEADER => false]);
    $body = curl_exec($ch);
    $info = curl_getinfo($ch);
    return ['body' => $body, 'errno' => curl_errno($ch), 'code' => $info['http_code'], 'url' => $info['url']];
}

// A multi handle shared by the requests: each adds its own easy handle and
// drives the multi until that one is done; a message read by anyone is
// recorded for its owner (what Symfony's CurlHttpClient does).
// With $wait, the handle's write callback waits a little for each chunk:
// whoever drives the multi then waits inside curl_multi_exec().
function multi_get(CurlMultiHandle $mh, array &$done, string $url, bool $wait): array
{
    $h = curl_init($url);
    $got = '';
    if ($wait) curl_setopt($h, CURLOPT_WRITEFUNCTION, function ($h, $d) use (&$got) { delay(10); $got .= $d; return strlen($d); });
    else curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
    $add = curl_multi_add_handle($mh, $h);
    $key = spl_object_id($h);
    $t = microtime(true);
    $errs = [];
    while (empty($done[$key]) && microtime(true) - $t < 10) {
        if (($st = curl_multi_exec($mh, $running)) !== CURLM_OK) $errs[] = $st;
        while ($m = curl_multi_info_read($mh)) $done[spl_object_id($m['handle'])] = $m['result'] + 1;
        if (empty($done[$key])) curl_multi_select($mh, 0.5);
    }
    $r = ['body' => $wait ? $got : curl_multi_getcontent($h), 'add' => $add, 'exec_errors' => $errs,
          'result' => ($done[$key] ?? 0) - 1, 'code' => curl_getinfo($h, CURLINFO_RESPONSE_CODE),
          'ms' => (int) ((microtime(true) - $t) * 1000)];
    curl_multi_remove_handle($mh, $h);
    unset($done[$key]);
    return $r;
}

HttpServer::onRequest(function (Request $req, Response $res) use ($shared, $stripe, $victim, $multi, &$multiDone, $bootShared, $symfony) {
    $q = $req->getQueryParams();
    $port = (int) ($q['port'] ?? 0);
    $id = $q['id'] ?? '';
    $ms = (int) ($q['ms'] ?? 300);
    $up = "http://127.0.0.1:$port/echo?id=" . urlencode($id) . "&ms=$ms";
    $out = [];
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/shared':
        $out = shared_get($shared, $q['url'] ?? $up, $q['mode'] ?? 'ret');
        break;
    case '/stripe':
        $out = stripe_like($stripe, $up, $id);
        break;
    case '/own':
        $ch = curl_init($up);
        curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
        $out = result($ch, curl_exec($ch));
        break;
    case '/multi':
        $out = multi_get($multi, $multiDone, $up, !empty($q['wait']));
        break;
    case '/children':
        // Child coroutines of one request share the boot handle too.
        $ids = range(1, (int) ($q['n'] ?? 4));
        $url = fn($i) => "http://127.0.0.1:$port/echo?id=" . urlencode("$id-$i") . "&ms=$ms";
        $cs = array_map(fn($i) => spawn(fn() => shared_get($shared, $url($i), 'ret')), $ids);
        $out = array_map(fn($c) => await($c), $cs);
        break;
    case '/fatal':
        // A write callback that runs out of memory: a fatal error inside
        // curl_exec() on the boot handle.
        curl_setopt($victim, CURLOPT_URL, $up);
        curl_setopt($victim, CURLOPT_WRITEFUNCTION, function ($h, $d) { $x = str_repeat('x', 1 << 30); return strlen($d); });
        curl_exec($victim);
        break;
    case '/victim':
        curl_setopt($victim, CURLOPT_URL, $up);
        $out = result($victim, curl_exec($victim));
        break;
    case '/symfony':
        $r = $symfony->request('GET', $up, ['headers' => ['X-Id' => $id]]);
        $t = microtime(true);
        $out = ['body' => $r->getContent(), 'code' => $r->getStatusCode(), 'url' => $r->getInfo('url'),
                'errno' => $r->getInfo('error') === null ? 0 : -1, 'ms' => (int) ((microtime(true) - $t) * 1000)];
        break;
    case '/ping':
        $out = ['pong' => true, 'same_handle' => spl_object_id($shared) === $bootShared, 'symfony' => $symfony !== null];
        break;
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out));
});
