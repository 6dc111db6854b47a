<?php
register_shutdown_function(function ($a) {
    echo "first($a);";
    register_shutdown_function(function () { echo "nested;"; });
}, 'arg');
register_shutdown_function(function () { echo "second;"; });
echo "body;";
