<?php
// frankenphp_loop.php as a worker of its own, so that its vhost can set
// TrueAsyncMaxConcurrency 4 (one worker per script file).
require __DIR__ . '/frankenphp_loop.php';
