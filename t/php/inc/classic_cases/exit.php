<?php
header('X-Exit: yes');
http_response_code(201);
echo "before;";
register_shutdown_function(function () { echo "shutdown;"; });
exit("bye;");
echo "never";
