<?php
header('HTTP/1.1 404 Nothing Here');
echo "gone";
