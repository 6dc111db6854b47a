<?php
// ob_gzhandler on the request's own output layer, as PHP does it
ob_start('ob_gzhandler');
echo str_repeat("compress me, please. ", 200);
