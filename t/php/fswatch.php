<?php
// Async\FileSystemWatcher (issue 11): changes in a directory as
// FileSystemEvent objects, coalesced, filtered by extension, debounced.
use FrankenPHP\HttpServer;
use Async\{FileSystemWatcher, FileSystemEvent};
use function Async\{spawn, await, delay};

HttpServer::onRequest(function ($req, $res) {
    $o = [];
    $dir = sys_get_temp_dir() . '/ta-fswatch-' . getmypid() . '-' . bin2hex(random_bytes(3));
    mkdir($dir);
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/watch':
        $w = new FileSystemWatcher($dir);
        spawn(function () use ($dir, $w) {
            delay(20);
            file_put_contents("$dir/a.txt", 'one');
            delay(30);
            rename("$dir/a.txt", "$dir/b.txt");
            delay(30);
            $w->close();
        });
        $seen = [];
        foreach ($w as $e) {
            $seen[] = ['file' => $e->filename, 'renamed' => $e->renamed, 'changed' => $e->changed,
                       'path' => $e->path === $dir, 'class' => get_class($e)];
        }
        $o['seen'] = $seen;
        $o['closed'] = $w->isClosed();
        try { $seen[0] && $e->filename = 'x'; } catch (Error $x) { $o['readonly'] = get_class($x); }
        break;
    case '/filter':
        $w = new FileSystemWatcher($dir, extensions: ['php']);
        spawn(function () use ($dir, $w) {
            delay(20);
            file_put_contents("$dir/skip.txt", '1');
            file_put_contents("$dir/keep.php", '2');
            delay(40);
            $w->close();
        });
        $files = [];
        foreach ($w as $e) $files[] = $e->filename;
        $o['files'] = array_values(array_unique($files));
        break;
    case '/debounce':
        $w = new FileSystemWatcher($dir, debounceMs: 80);
        $t0 = 0;
        spawn(function () use ($dir, &$t0) {
            delay(20);
            $t0 = hrtime(true);
            for ($i = 0; $i < 5; $i++) { file_put_contents("$dir/burst.txt", str_repeat('x', $i + 1)); delay(10); }
        });
        foreach ($w as $e) { $o['first'] = $e->filename; $o['after_ms'] = (hrtime(true) - $t0) / 1e6; break; }
        $w->close();
        break;
    }
    array_map('unlink', glob("$dir/*"));
    rmdir($dir);
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($o));
});
