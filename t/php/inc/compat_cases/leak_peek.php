<?php
// What the next request sees: PHP's settings, not the last request's.
$keys = ['open_basedir', 'session.name', 'session.use_cookies', 'session.cache_limiter',
         'session.serialize_handler', 'session.save_handler', 'error_reporting', 'precision'];
$out = [];
foreach ($keys as $k) $out[$k] = ini_get($k);
$out['session_name'] = session_name();
$out['readable'] = is_readable('/etc/hostname');
ini_set('session.use_cookies', '0');
session_save_path(sys_get_temp_dir());
session_id('peek1');
$out['start'] = @session_start();
$out['status'] = session_status();
$out['error'] = error_get_last()['message'] ?? null;
echo json_encode($out);
