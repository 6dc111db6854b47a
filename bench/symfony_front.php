<?php
// bench/frameworks.sh, mod_php and php-fpm side: the classic front controller.
require __DIR__ . '/symfony_kernel.php';
bench_handle(bench_routes());
