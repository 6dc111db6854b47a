<?php
// What PHP makes of the request: the same under php-cgi and in a coroutine.
$files = [];
foreach ($_FILES as $k => $f) {
    $files[$k] = is_array($f['name'])
        ? ['name' => $f['name'], 'type' => $f['type'], 'size' => $f['size'], 'error' => $f['error']]
        : ['name' => $f['name'], 'type' => $f['type'], 'size' => $f['size'], 'error' => $f['error'],
           'uploaded' => is_uploaded_file($f['tmp_name']),
           'content' => $f['error'] ? null : file_get_contents($f['tmp_name'])];
}
$server = [];
foreach (['REQUEST_METHOD', 'QUERY_STRING', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'HTTP_X_CUSTOM',
          'HTTP_COOKIE', 'PHP_AUTH_USER', 'PHP_AUTH_PW'] as $k) {
    $server[$k] = $_SERVER[$k] ?? null;
}
echo json_encode(['get' => $_GET, 'post' => $_POST, 'cookie' => $_COOKIE, 'request' => $_REQUEST,
                  'files' => $files, 'server' => $server, 'input' => file_get_contents('php://input'),
                  'time' => is_int($_SERVER['REQUEST_TIME']) && is_float($_SERVER['REQUEST_TIME_FLOAT'])],
                 JSON_PRETTY_PRINT), "\n";
