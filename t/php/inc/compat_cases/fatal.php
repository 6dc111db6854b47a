<?php
echo "before the error\n";
trigger_error("stop here", E_USER_ERROR);
echo "never";
