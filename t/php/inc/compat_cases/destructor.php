<?php
// An object only the request's $_GET holds: destroyed at its end, and what
// its destructor prints is part of the response.
class CompatBye { public function __destruct() { echo "bye from the destructor;"; } }
$_GET['compat_keep'] = new CompatBye();
echo "body;";
