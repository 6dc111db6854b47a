<?php
// php-src's tests/output/ob_start_basic_003: the callback still runs after
// the fatal error
ob_start(fn($b) => 'I have stolen your output');
cause_fatal_error();
ob_end_flush();
echo "done (you shouldn't see this)";
