<?php
// An output callback whose result replaces all that was written.
ob_start(fn($b) => 'replaced by the callback');
echo "written by the script";
