<?php
ob_start(fn($b) => 'I have stolen your output');
echo "mine";
