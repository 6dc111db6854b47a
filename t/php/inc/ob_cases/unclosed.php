<?php
echo "start|";
ob_start(fn (string $s) => "[" . $s . "]");
echo "left open";
