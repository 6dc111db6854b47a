<?php
// Changes a request makes to settings and handlers, after output was sent.
echo "output first\n";
flush();
ini_set('open_basedir', __DIR__);
ini_set('session.name', 'LEAKED');
session_name('LEAKED2');
ini_set('session.use_cookies', '0');
ini_set('session.cache_limiter', 'public');
ini_set('session.serialize_handler', 'php_serialize');
session_set_save_handler(fn() => true, fn() => true, fn() => '', fn() => true, fn() => true, fn() => 0);
error_reporting(E_ERROR);
ini_set('precision', '3');
echo ini_get('open_basedir') === __DIR__ ? "confined\n" : "not confined\n";
