<?php
// The manual's form: a handler object, register_shutdown left at true.
// What its write() and close() print is part of the response.
class CompatHandler implements SessionHandlerInterface {
    public function open($path, $name): bool { echo "open;"; return true; }
    public function close(): bool { echo "close;"; return true; }
    public function read($id): string|false { echo "read;"; return ''; }
    public function write($id, $data): bool { echo "write($data);"; return true; }
    public function destroy($id): bool { return true; }
    public function gc($max): int|false { return 0; }
}
ini_set('session.use_cookies', '0');
session_id('compat1');
session_set_save_handler(new CompatHandler());
session_start();
$_SESSION['n'] = 1;
echo "body;";
