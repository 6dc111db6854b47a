<?php
// Pieces built at run time: OPcache would join two constant echos into one.
$seen = [];
ob_start(function (string $s) use (&$seen) { $seen[] = strlen($s); return $s; }, 4);
echo str_repeat('a', 8);
echo str_repeat('b', 2);
ob_end_flush();
echo "|", implode(',', $seen);
