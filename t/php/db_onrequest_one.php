<?php
// t/php/db_onrequest.php again, under a name of its own: workers are
// shared by script, and this one runs with TrueAsyncMaxConcurrency 1.
require __DIR__ . '/db_onrequest.php';
