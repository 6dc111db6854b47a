<?php
// Main-server worker for the mod_trueasync Apache::Test suite.
// Routes on the request path; every route reports what the PHP side saw so
// the .t files can compare it with what the client sent / received.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

function ta_path(Request $req): string
{
    return parse_url($req->getUri(), PHP_URL_PATH) ?? '';
}

function ta_json(Response $res, $data, int $status = 200): void
{
    $res->setStatus($status);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($data, JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR));
    $res->end();
}

// Runs $fn, returns the class of what it threw, or 'none'.
function ta_throws(callable $fn): string
{
    try {
        $fn();
        return 'none';
    } catch (\Throwable $e) {
        return get_class($e);
    }
}

function ta_safe_id(Request $req): string
{
    $id = $req->getQueryParams()['id'] ?? '';
    return preg_replace('/[^A-Za-z0-9_-]/', '', (string)$id);
}

function ta_result_file(string $id): string
{
    return sys_get_temp_dir() . "/trueasync-test-$id.json";
}

function ta_upload_info($f): array
{
    if (is_array($f)) {
        return array_map('ta_upload_info', $f);
    }
    $info = [
        'class' => is_object($f) ? get_class($f) : gettype($f),
        'name'  => $f->getName(),
        'type'  => $f->getType(),
        'size'  => $f->getSize(),
        'error' => $f->getError(),
        'tmp'   => $f->getTmpName(),
    ];
    $tmp = $f->getTmpName();
    $info['tmp_exists'] = is_string($tmp) && $tmp !== '' && is_file($tmp);
    $info['tmp_md5'] = $info['tmp_exists'] ? md5_file($tmp) : null;
    return $info;
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $path = ta_path($req);
    $q = $req->getQueryParams();

    switch ($path) {

    // ---------------------------------------------------------------- request
    case '/api/req':
        $h = $req->getHeaders();
        ta_json($res, [
            'method'    => $req->getMethod(),
            'uri'       => $req->getUri(),
            'host'      => $req->getHost(),
            'h_lc'      => $req->getHeader('x-test-one'),
            'h_uc'      => $req->getHeader('X-TEST-ONE'),
            'h_multi'   => $req->getHeader('X-Multi'),
            'h_missing' => $req->getHeader('X-Not-Sent'),
            'headers'   => $h,
            'headers_is_array' => is_array($h),
            'headers_all_strings' => is_array($h) && count(array_filter($h, 'is_string')) === count($h),
            'remote'    => $req->getRemoteAddr(),
            'proto'     => $req->getProtocolVersion(),
            'scheme'    => $req->getScheme(),
            'query'     => $req->getQueryParams(),
            'cookies'   => $req->getCookies(),
            'body'      => $req->getBody(),
            'parsed'    => $req->getParsedBody(),
            'files'     => $req->getUploadedFiles(),
        ]);
        return;

    // ------------------------------------------------------------------ bodies
    case '/api/body':        // echo the raw body back
    case '/limited/body':
        $body = $req->getBody();
        $res->setHeader('Content-Type', 'application/octet-stream');
        $res->setHeader('X-Body-Length', (string)strlen($body));
        $res->setHeader('X-Body-Md5', md5($body));
        $res->write($body);
        $res->end();
        return;

    case '/api/bodymd5':
        $body = $req->getBody();
        ta_json($res, ['len' => strlen($body), 'md5' => md5($body)]);
        return;

    case '/api/form':
        ta_json($res, [
            'parsed' => $req->getParsedBody(),
            'parsed_is_null' => $req->getParsedBody() === null,
            'body_len' => strlen($req->getBody()),
            'files' => $req->getUploadedFiles(),
        ]);
        return;

    case '/api/upload':
        $files = $req->getUploadedFiles();
        $dir = sys_get_temp_dir() . '/trueasync-upload-' . ta_safe_id($req);
        @mkdir($dir, 0777, true);
        $info = ta_upload_info($files);
        $moved = [];
        // move the single file, and the second of the list
        if (isset($files['avatar']) && is_object($files['avatar'])) {
            $dest = "$dir/avatar.bin";
            $ok = $files['avatar']->moveTo($dest);
            $moved['avatar'] = ['ok' => $ok, 'path' => $dest,
                'exists' => is_file($dest), 'md5' => is_file($dest) ? md5_file($dest) : null,
                'size' => is_file($dest) ? filesize($dest) : null,
                'tmp_still_exists' => is_file((string)$files['avatar']->getTmpName())];
        }
        if (isset($files['docs'][1]) && is_object($files['docs'][1])) {
            $dest = "$dir/doc1.txt";
            $ok = $files['docs'][1]->moveTo($dest);
            $moved['doc1'] = ['ok' => $ok, 'path' => $dest,
                'exists' => is_file($dest), 'md5' => is_file($dest) ? md5_file($dest) : null,
                'size' => is_file($dest) ? filesize($dest) : null];
        }
        ta_json($res, [
            'parsed' => $req->getParsedBody(),
            'files' => $info,
            'moved' => $moved,
        ]);
        return;

    // ---------------------------------------------------------------- response
    case '/api/resp/status':
        $code = (int)($q['code'] ?? 200);
        $before = $res->getStatus();
        $res->setStatus($code);
        $res->setHeader('X-Status-Before', (string)$before);
        $res->setHeader('X-Status-After', (string)$res->getStatus());
        $res->write("status $code\n");
        $res->end();
        return;

    case '/api/resp/headers':
        $res->setHeader('X-Replace', 'first');
        $res->setHeader('X-Replace', 'second');
        $res->addHeader('X-Added', 'a1');
        $res->addHeader('X-Added', 'a2');
        $res->setHeader('X-Removed', 'gone');
        $res->removeHeader('X-Removed');
        $res->addHeader('Set-Cookie', 'c1=v1; Path=/');
        $res->addHeader('Set-Cookie', 'c2=v2; Path=/; HttpOnly');
        $res->setHeader('Content-Type', 'application/json');
        $report = [
            'get_replace'  => $res->getHeader('X-Replace'),
            'get_added'    => $res->getHeader('x-added'),
            'get_removed'  => $res->getHeader('X-Removed'),
            'get_missing'  => $res->getHeader('X-Never-Set'),
            'get_cookie'   => $res->getHeader('Set-Cookie'),
            'all'          => $res->getHeaders(),
            'sent_before'  => $res->isHeadersSent(),
            'status'       => $res->getStatus(),
        ];
        $res->write("first-line\n");  // first write: headers go out
        $report['sent_after_write'] = $res->isHeadersSent();
        $report['set_after_sent'] = ta_throws(fn() => $res->setHeader('X-Too-Late', '1'));
        $res->write(json_encode($report, JSON_UNESCAPED_SLASHES));
        $res->end();
        return;

    case '/api/resp/sentflag':
        $before = $res->isHeadersSent();
        $res->write("part1\n");
        $after = $res->isHeadersSent();
        $res->write('before=' . var_export($before, true) . ' after=' . var_export($after, true) . "\n");
        $res->end();
        return;

    case '/api/resp/redirect':
        $to = $q['to'] ?? '/target';
        if (isset($q['code'])) {
            $res->redirect($to, (int)$q['code']);
        } else {
            $res->redirect($to);
        }
        return;

    case '/api/resp/badredirect':
        $r = [
            'code200' => ta_throws(fn() => $res->redirect('/x', 200)),
            'code400' => ta_throws(fn() => $res->redirect('/x', 400)),
            'code299' => ta_throws(fn() => $res->redirect('/x', 299)),
        ];
        $r['status'] = $res->getStatus();
        $r['location'] = $res->getHeader('Location');
        ta_json($res, $r);
        return;

    case '/api/resp/invalid':
        $r = [
            'name_space'    => ta_throws(fn() => $res->setHeader('Bad Name', 'v')),
            'name_colon'    => ta_throws(fn() => $res->setHeader('Bad:Name', 'v')),
            'name_empty'    => ta_throws(fn() => $res->setHeader('', 'v')),
            'name_crlf'     => ta_throws(fn() => $res->addHeader("X-Split\r\nInjected-Name", 'v')),
            'value_crlf'    => ta_throws(fn() => $res->setHeader('X-Crlf', "a\r\nInjected-Crlf: 1")),
            'value_lf'      => ta_throws(fn() => $res->addHeader('X-Lf', "a\nInjected-Lf: 1")),
            'value_cr'      => ta_throws(fn() => $res->setHeader('X-Cr', "a\rInjected-Cr: 1")),
            'value_nul'     => ta_throws(fn() => $res->setHeader('X-Nul', "a\0b")),
            'add_value_crlf'=> ta_throws(fn() => $res->addHeader('X-Add-Crlf', "x\r\nInjected-Add: 1")),
            'status_99'     => ta_throws(fn() => $res->setStatus(99)),
            'status_600'    => ta_throws(fn() => $res->setStatus(600)),
            'status_100'    => ta_throws(fn() => $res->setStatus(100)),
            'status_599'    => ta_throws(fn() => $res->setStatus(599)),
        ];
        $res->setStatus(200);
        $r['status_after'] = $res->getStatus();
        $r['get_crlf'] = $res->getHeader('X-Crlf');
        $r['get_nul'] = $res->getHeader('X-Nul');
        $res->setHeader('X-Valid', 'still-works');
        ta_json($res, $r);
        return;

    case '/api/resp/afterend':
        $id = ta_safe_id($req);
        $res->setHeader('Content-Type', 'text/plain');
        $res->write("ended-body\n");
        $res->end();
        $r = [
            'write_after_end' => ta_throws(fn() => $res->write('MUST-NOT-APPEAR')),
            'second_end'      => ta_throws(fn() => $res->end()),
            'header_after_end'=> ta_throws(fn() => $res->setHeader('X-After-End', '1')),
            'sent'            => $res->isHeadersSent(),
        ];
        file_put_contents(ta_result_file($id), json_encode($r));
        return;

    case '/api/resp/noend':
        $res->setHeader('Content-Type', 'text/plain');
        $res->setHeader('X-No-End', 'yes');
        $res->write("implicit ");
        $res->write("end\n");
        return;   // no end()

    case '/api/resp/noend-empty':
        $res->setStatus(202);
        $res->setHeader('X-No-End', 'empty');
        return;   // neither write() nor end()

    case '/api/resp/status-only':
        $res->setStatus(204);
        $res->end();
        return;

    // -------------------------------------------------------------- echo/print
    case '/api/echo':
        $res->setHeader('Content-Type', 'text/plain');
        echo "1-echo\n";
        $res->write("2-write\n");
        print "3-print\n";
        printf("%d-%s\n", 4, 'printf');
        $res->write("5-write\n");
        echo "6-echo\n";
        $res->end();
        return;

    case '/api/echo-only':
        echo "only echo\n";
        return;

    // ---------------------------------------------------------------- stream
    case '/api/stream':
        $n = (int)($q['n'] ?? 5);
        $gap = (int)($q['gap'] ?? 150);
        $res->setHeader('Content-Type', 'text/plain');
        for ($i = 1; $i <= $n; $i++) {
            if ($i > 1) {
                Async\delay($gap);
            }
            $res->write(sprintf("chunk-%d t=%.3f\n", $i, microtime(true)));
        }
        Async\delay($gap);
        $res->end();
        return;

    case '/api/sleep':
        $ms = (int)($q['ms'] ?? 100);
        Async\delay($ms);
        $res->setHeader('Content-Type', 'text/plain');
        $res->write('slept ' . $ms . ' id=' . ($q['id'] ?? '') . "\n");
        $res->end();
        return;

    // --------------------------------------------------------------- deflate
    case '/deflate/text':
    case '/deflate-bytype/text':
        $res->setHeader('Content-Type', 'text/plain');
        for ($i = 0; $i < 200; $i++) {
            $res->write(sprintf("line %04d: the quick brown fox jumps over the lazy dog\n", $i));
        }
        $res->end();
        return;

    // --------------------------------------------------------------- opcache
    case '/api/opcache':
        $st = function_exists('opcache_get_status') ? opcache_get_status(false) : 'no-function';
        ta_json($res, [
            'function_exists' => function_exists('opcache_get_status'),
            'loaded'  => extension_loaded('Zend OPcache'),
            'enabled' => is_array($st) ? ($st['opcache_enabled'] ?? null) : $st,
            'ini_enable' => ini_get('opcache.enable'),
            'sapi' => PHP_SAPI,
            'zts' => PHP_ZTS,
        ]);
        return;

    case '/api/ini':
        ta_json($res, [
            'default_socket_timeout' => ini_get('default_socket_timeout'),
            'memory_limit' => ini_get('memory_limit'),
        ]);
        return;

    default:
        ta_json($res, ['error' => 'no route', 'path' => $path], 404);
        return;
    }
});
