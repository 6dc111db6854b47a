<?php
// bench/io.sh, php-fpm side: the same request work as bench/io_worker.php.
header('Content-Type: text/plain');
echo file_get_contents('http://127.0.0.1:' . ($_GET['up'] ?? '0') . '/');
