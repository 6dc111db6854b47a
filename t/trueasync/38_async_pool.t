# php-async's Pool and circuit breaker (issue 11): min made at once, max
# never exceeded, acquire() waits (as a coroutine) for a release or times
# out, beforeAcquire/beforeRelease checks, close(); CircuitBreaker states,
# a CircuitBreakerStrategy that trips and recovers it.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);

my $V = 'trueasync_pool';
sub get {
    my $r = raw_request($V, path => shift, timeout => 10);
    return eval { json_decode($r->{body}) } || { error => "HTTP " . ($r->{status} // '?') . " $r->{body}" };
}

my $o = get('/pool');
is_deeply $o->{start}, [1, 1, 0, 1], 'min: 1 made by the constructor, idle';
is_deeply $o->{two_out}, ['conn1', 'conn2', 2, undef], 'max 2: both out, tryAcquire() gives null';
is_deeply [$o->{waited}[0], $o->{waited}[1] ? 1 : 0], ['conn1', 1], 'a third acquire() waits for the release';
is $o->{timeout}, 'Async\\TimeoutException', 'acquire(20) with all out: TimeoutException';
is_deeply [map { $_ ? 1 : 0 } @{$o->{before_acquire} // []}], [1, 1], 'beforeAcquire false: destroyed, a fresh one handed out';
is_deeply $o->{before_release}, [0, 0], 'beforeRelease false: destroyed, not kept';
is_deeply [map { $_ ? 1 : 0 } @{$o->{closed} // []}], [1, 0], 'close(): closed, idle ones destroyed';
is $o->{acquire_closed}, 'Pool is closed', 'acquire() on a closed pool: PoolException';
is_deeply $o->{destroyed}, ['bad', 'conn2'], 'the destructor saw what was destroyed';

$o = get('/fifo');
is_deeply $o->{order}, [1, 2], 'min 3 made 1, 2, 3: the oldest idle ones go out first';
is_deeply $o->{next}, [3, 2, 1], 'released 2 then 1: 3 (idle longest), then 2, then 1';
is_deeply $o->{destroyed}, [3, 2, 1], 'close() destroys the idle ones oldest first';

$o = get('/breaker');
is $o->{state0}, 'ACTIVE', 'a new pool is ACTIVE';
is $o->{inactive}, 'Service is unavailable (circuit breaker is open)', 'deactivate(): acquire() throws ServiceUnavailableException';
is $o->{active_again}, 'r', 'activate(): serves again';
ok $o->{tripped} && $o->{refused}, 'a strategy that deactivates after two factory failures trips it';
is $o->{recovering}, 'RECOVERING', 'shouldRecover() true: RECOVERING, one gets through';
is $o->{recovered}, 'ACTIVE', 'a good release makes it ACTIVE again';
is_deeply $o->{log}, ['failure:down', 'failure:down', 'success'], 'reportFailure() and reportSuccess() as they happened';

done_testing();
