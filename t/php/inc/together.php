<?php
// ?together=N&batch=B: the request waits (up to $secs) until N requests of
// batch B have arrived, so their work starts at once however slowly the
// test's clients and the servers' new connections come in; the thread
// serves the others meanwhile. Returns when it started.
function together(array $q, int $secs = 10): float
{
    static $arrived = [];
    if (($n = (int) ($q['together'] ?? 0)) > 0) {
        $batch = (string) ($q['batch'] ?? '');
        $arrived[$batch] = ($arrived[$batch] ?? 0) + 1;
        $deadline = microtime(true) + $secs;
        while ($arrived[$batch] < $n && microtime(true) < $deadline) Async\delay(5);
    }
    return microtime(true);
}
