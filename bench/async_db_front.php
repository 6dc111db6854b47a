<?php
// bench/async_db.sh, php-fpm and mod_php: a persistent connection per
// process, the same query.
require __DIR__ . '/async_db_query.php';

header('Content-Type: application/json');
echo async_db_row(async_db_connect([PDO::ATTR_PERSISTENT => true]));
