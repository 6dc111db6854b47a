<?php
ob_start();
ob_start();
$st = ob_get_status(true);
$lens = [ob_get_level(), count($st)];
ob_end_clean();
ob_end_clean();
echo implode(',', $lens), "|", ob_get_level(), "|", var_export(ob_get_contents(), true);
