<?php
ob_start(fn (string $s) => str_replace('x', 'y', $s));
echo "xox";
ob_end_flush();
echo "|after";
