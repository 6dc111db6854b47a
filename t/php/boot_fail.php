<?php
// Never boots: TrueAsyncMaxConsecutiveFailures 2 logs once after two
// failed boots in a row; the status page shows this error.
throw new RuntimeException('boot failed on purpose');
