<?php
header('HTTP/1.1 399 Choose Your Own Adventure');
header('Location: http://example.com/');
