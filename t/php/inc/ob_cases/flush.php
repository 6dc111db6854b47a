<?php
ob_start();
echo "one";
ob_flush();
echo "two";
$rest = ob_get_contents();
ob_end_clean();
echo "|", $rest;
