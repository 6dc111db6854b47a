<?php
// The callback still runs after a fatal error, as at PHP's request end.
ob_start(fn($b) => 'the callback had the last word');
no_such_function_here();
ob_end_flush();
echo "not reached";
