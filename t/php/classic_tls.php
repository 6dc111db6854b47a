<?php
// The classic worker again, as its own worker for the TLS virtual host.
require __DIR__ . "/classic.php";
