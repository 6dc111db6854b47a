<?php
register_shutdown_function(function () { throw new RuntimeException("from shutdown"); });
echo "body\n";
