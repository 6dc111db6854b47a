<?php
ob_start();
echo "a";
ob_start();
echo "b";
$b = ob_get_clean();
echo strtoupper($b), ob_get_level();
ob_end_flush();
echo "|", ob_get_level();
