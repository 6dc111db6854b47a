<?php
set_exception_handler(function (Throwable $e) {
    echo "handled: ", get_class($e), ": ", $e->getMessage(), ";";
});
register_shutdown_function(function () { echo "shutdown;"; });
echo "before;";
throw new RuntimeException('boom');
echo "not reached;";
