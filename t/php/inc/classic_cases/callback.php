<?php
header_register_callback(function () { header('X-From-Callback: ' . (headers_sent() ? 'late' : 'early')); });
echo "body";
header('X-After-Output: 1');  // too late: a warning, not sent
echo json_encode(headers_sent($file, $line)), basename((string) $file), ':', $line;
