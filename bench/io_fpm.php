<?php
// bench/io.sh, php-fpm side: the same request work as bench/io_worker.php.
// /fpm-pool keeps one upstream connection per fpm child (pfsockopen).
header('Content-Type: text/plain');
$port = (int) ($_GET['up'] ?? 0);
if (($_GET['pool'] ?? '') !== '1') {
    echo file_get_contents("http://127.0.0.1:$port/");
    return;
}
$conn = pfsockopen('127.0.0.1', $port, $errno, $errstr, 5);
fwrite($conn, "GET / HTTP/1.1\r\nHost: upstream\r\nConnection: keep-alive\r\n\r\n");
$len = 0;
while (($line = fgets($conn)) !== false && $line !== "\r\n") {
    if (stripos($line, 'Content-Length:') === 0) $len = (int) substr($line, 15);
}
echo $len > 0 ? fread($conn, $len) : '';
