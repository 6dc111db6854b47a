<?php
ob_start('ob_gzhandler');
echo str_repeat("compressed? ", 20);
