<?php
// A request that never gives its thread back, whatever it is told: its
// loop swallows every cancellation and never suspends.
echo getmypid();
flush();
$n = 0;
while (true) {
    try {
        while (true) $n++;
    } catch (\Throwable $e) {
    }
}
