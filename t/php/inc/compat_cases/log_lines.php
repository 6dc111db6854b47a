<?php
// PHP's log lines at each level; t/trueasync/78_log_and_stop.t looks for
// them in the error log of a server under LogLevel warn.
error_reporting(E_ALL);     // the same on both sides, whatever php.ini says
ini_set("log_errors", "1");
$tag = $_GET['tag'] ?? 'x';
error_log("compat-error-log-$tag");
trigger_error("compat-user-notice-$tag", E_USER_NOTICE);
trigger_error("compat-user-deprecated-$tag", E_USER_DEPRECATED);
trigger_error("compat-user-warning-$tag", E_USER_WARNING);
echo "logged $tag";
