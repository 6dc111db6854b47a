# php-async's runtime functions (issue 11): available_parallelism(),
# runtime_stats(), CpuSnapshot, cpu_usage(), loadavg(); signal() with the
# Signal enum (Apache's own signals refused); iterate() with its stop,
# error, concurrency and cancelPending rules; graceful_shutdown() reboots
# the worker once the request in flight finished.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode);

my $V = 'trueasync_runtime';
sub get {
    my $r = raw_request($V, path => shift, timeout => 10);
    return eval { json_decode($r->{body}) } || { error => "HTTP " . ($r->{status} // '?') . " $r->{body}" };
}

my $o = get('/info');
chomp(my $nproc = `nproc 2>/dev/null` || '');
is $o->{parallelism}, $nproc, "available_parallelism() is what nproc says ($nproc)" if $nproc;
is $o->{stats}{coroutines_total}, 2, 'runtime_stats(): the handler and the coroutine it spawned';
is $o->{stats}{fiber_pool_min}, 64, 'runtime_stats(): fiber_pool_min';
ok $o->{stats}{fiber_stack_size} > 0 && exists $o->{stats}{fiber_pool_virtual_bytes}, 'runtime_stats(): the fiber keys';
ok $o->{snap}{wall} > 0 && $o->{snap}{cpu} > 0 && $o->{snap}{busy}, 'CpuSnapshot::now() twice: wall time and process CPU grew';
is $o->{snap}{count}, $nproc, 'CpuSnapshot cpuCount' if $nproc;
is $o->{readonly}, 'Error', 'CpuSnapshot properties are readonly';
ok $o->{usage}{interval_sec} >= 0.015 && $o->{usage}{interval_sec} < 2, 'cpu_usage(): the interval since the previous call';
ok defined $o->{usage}{process_cores} && defined $o->{usage}{system_percent}, 'cpu_usage(): process_cores, system_percent';
is scalar(@{$o->{loadavg} // []}), 3, 'loadavg(): three figures';

$o = get('/iterate');
is_deeply $o->{basic}, ['a=1', 'b=2', 'c=3'], 'iterate(): callback(value, key) for each element, in order';
is_deeply $o->{stop}, [1, 2], 'a callback returning false stops the iteration';
is $o->{error}, 'at 2', 'an exception from a callback stops it and is rethrown';
is $o->{peak}, 3, 'concurrency: 3 callbacks at once, no more';
is $o->{generator}, 30, 'a Generator is iterated';
is_deeply [sort @{$o->{cancel_pending} // []}], ['child 1 cancelled', 'child 2 cancelled'], 'coroutines the callbacks spawned are cancelled at the end (cancelPending)';
is_deeply [sort @{$o->{wait_pending} // []}], ['child 1 done', 'child 2 done'], 'cancelPending: false waits for them';

$o = get('/iterate-model');
is_deeply $o->{order}, ['begin 1', 'end 1', 'begin 2', 'begin 3', 'caught: error at 2'],
    "iterate(): workers pull the elements; the second starts once the first yielded, and resumes after it (php-async's order)";
is $o->{one_worker}, 1, 'callbacks that never suspend all run in the one first worker';
is $o->{unlimited_peak}, 6, 'concurrency 0: no limit, a worker more each time one waits';
is_deeply $o->{suspending_generator}, [1, 2, 3, 4], 'a Generator that suspends hands each element out once';

$o = get('/signal');
is $o->{got}, 'SIGUSR2', 'signal(Signal::SIGUSR2): its Future resolves to the Signal when the process gets it';
ok $o->{ms} < 2000, sprintf('soon after it was sent (%.1f ms)', $o->{ms} // -1);
is $o->{token}, 'Async\\TimeoutException', 'signal() with a token that trips: OperationCanceledException (previous TimeoutException)';
for my $s (qw(SIGTERM SIGHUP SIGUSR1 SIGWINCH SIGINT)) {
    like $o->{refused}{$s} // '', qr/must not be Signal::$s: Apache httpd owns it/, "signal(Signal::$s) refused: Apache owns it";
}
like $o->{refused}{SIGKILL} // '', qr/cannot be waited for/, 'signal(Signal::SIGKILL) refused';
like $o->{refused}{SIGBREAK} // '', qr/Windows only/, 'signal(Signal::SIGBREAK) refused';
ok kill(0, $o->{pid}), 'the child is still there';

my $before = get('/boot')->{booted};
$o = get('/shutdown');
ok $o->{finished}, 'graceful_shutdown(): the request that asked still finishes';
is $o->{booted}, $before, '... in the worker that was running';
my $after;
for (1 .. 30) { $after = get('/boot')->{booted}; last if $after && $after ne $before; sleep 0.1; }
isnt $after, $before, 'then the worker script boots afresh';
like TATest::log_since(0), qr/recycles as its script called Async\\\\graceful_shutdown\(\)/, 'the error log says why';

done_testing();
