<?php
// compat.php under settings of its own (a worker is one per script)
require __DIR__ . "/compat.php";
