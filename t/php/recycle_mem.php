<?php
// recycle.php under a path of its own: a distinct worker (its own TrueAsyncMaxMemory).
require __DIR__ . '/recycle.php';
