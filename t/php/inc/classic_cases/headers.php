<?php
// header() and friends; PHP's own answer under php-cgi is the reference.
header('X-A: 1');
header('X-A: 2', false);
header('X-B: gone');
header('X-C: old');
header('X-C: new');
header_remove('X-B');
header("X-Bad: a\r\nX-Injected: 1");          // refused by PHP (a warning)
http_response_code(202);
setcookie('plain', 'v a;l');
setcookie('opts', 'x', ['expires' => 0, 'path' => '/p', 'domain' => 'example.test', 'secure' => true,
                        'httponly' => true, 'samesite' => 'Lax']);
setrawcookie('raw', 'a%20b');
$before = headers_sent();
$list = headers_list();
sort($list);
echo json_encode(['code' => http_response_code(), 'sent_before' => $before, 'list' => $list]), "\n";
echo json_encode(['sent_after' => headers_sent()]), "\n";
