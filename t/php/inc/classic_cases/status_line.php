<?php
header('HTTP/1.1 404 Not Here');
echo http_response_code();
