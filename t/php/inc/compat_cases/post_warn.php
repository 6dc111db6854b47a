<?php
echo "post:" . count($_POST) . "\n";
