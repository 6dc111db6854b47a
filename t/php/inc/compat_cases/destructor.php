<?php
class CompatBye { public function __destruct() { echo "bye from the destructor;"; } }
$GLOBALS['compat_keep'] = new CompatBye();
echo "body;";
