<?php
// bench/soak.sh: a mix of what a worker does, to see whether the child's
// memory and mappings stay flat over a million requests.
//   /s/hello    answers at once
//   /s/fanout   spawns 10 coroutines (each waits 1 ms) and awaits them all
//   /s/upload   multipart upload: checks the file's size (?size=N)
//   /s/stream   6 chunks, one per write(), 1 ms apart
//   /s/fatal    compile-time fatal error; /s/oom memory_limit fatal (32M)
// A wrong result answers 500, which the load client counts as a failure.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

HttpServer::onRequest(function (Request $req, Response $res) {
    $res->setHeader('Content-Type', 'text/plain');
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/s/hello':
        $res->write("hello\n");
        break;
    case '/s/fanout':
        $tasks = [];
        for ($i = 0; $i < 10; $i++) {
            $tasks[] = Async\spawn(function (int $n) { Async\delay(1); return $n * $n; }, $i);
        }
        [$results, $errors] = Async\await_all($tasks);
        if ($errors || array_sum($results) !== 285) {
            $res->setStatus(500);
        }
        $res->write('fanout ' . array_sum($results) . "\n");
        break;
    case '/s/upload':
        $file = $req->getUploadedFiles()['file'] ?? null;
        $want = (int) ($req->getQueryParams()['size'] ?? -1);
        $ok = $file && $file->getError() === UPLOAD_ERR_OK && $file->getSize() === $want
            && ($req->getParsedBody()['note'] ?? '') === 'soak';
        if (!$ok) {
            $res->setStatus(500);
        }
        $res->write('upload ' . ($file ? $file->getSize() : -1) . "\n");
        break;
    case '/s/stream':
        for ($i = 0; $i < 6; $i++) {
            $res->write(str_repeat(chr(97 + $i), 512) . "\n");
            Async\delay(1);
        }
        break;
    case '/s/fatal':
        eval('function strlen() {}');
        break;
    case '/s/oom':
        $keep = [];
        for ($i = 0; $i < 1000; $i++) {
            $keep[] = str_repeat('x', 1 << 20);
        }
        break;
    default:
        $res->setStatus(404);
        $res->write("no such route\n");
    }
    $res->end();
});
