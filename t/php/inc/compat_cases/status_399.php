<?php
// A code httpd does not know, with a reason of its own, then a Location
// (which keeps a 3xx code).
header('HTTP/1.1 399 Something Custom');
header('Location: http://example.com/');
