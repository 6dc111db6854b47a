# php-async's Future and FutureState, and the Channel additions (issue 11):
# map/catch/finally chains, await with a cancellation token, completed()/
# failed(); foreach over a channel until closed, send()/recv() bounded by a
# token, sendAsync()/recvAsync(), isEmpty()/isFull(), the no-producer and
# no-consumer timeouts with ChannelCloseReason.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode parallel);

my $V = 'trueasync_future';
sub get {
    my $r = raw_request($V, path => shift, timeout => 10);
    return eval { json_decode($r->{body}) } || { error => "HTTP " . ($r->{status} // '?') . " $r->{body}" };
}
sub bools { [map { $_ ? 1 : 0 } @{ $_[0] // [] }] }

my $o = get('/future');
is_deeply bools($o->{fresh}), [0, 0], 'a new Future and its FutureState are not completed';
is $o->{await}, 20, 'await(Future) gives what FutureState::complete() put';
is $o->{method_await}, 20, 'Future::await() the same';
is_deeply bools($o->{done}), [1, 1, 0], 'completed on both sides, not cancelled';
like $o->{twice}, qr/^FutureState is already completed at \S+future_channel\.php:\d+$/, 'a second complete() throws AsyncException, saying where it was completed';
is $o->{map}, 42, 'map() chains';
is $o->{completed}, 'ready', 'Future::completed()';
ok exists $o->{completed_null} && !defined $o->{completed_null}, 'Future::completed() without a value is null';
is $o->{failed}, 'bad', 'Future::failed() throws its exception when awaited';
is $o->{map_of_failure}, 'caught kept', 'map() passes a failure on untouched; catch() turns it into a value';
is $o->{catch_of_success}, 5, 'catch() passes a success on untouched';
is $o->{finally}, 'v', 'finally() keeps the outcome';
is_deeply $o->{finally_log}, ['finally ran', 'finally on failure', 'rethrown through'], 'finally() runs on success and on failure';
is $o->{map_throws}, 'in map', 'what a map() callback throws fails its Future';
is $o->{token}, 'Async\\TimeoutException', 'Future::await(timeout()) throws OperationCanceledException (previous: TimeoutException)';
is_deeply [map { ref $_ ? ($_ ? 1 : 0) : $_ } @{$o->{cancelled} // []}], [1, 1, 'Async\\AsyncCancellation'],
    'cancel(): cancelled, completed, awaiting throws AsyncCancellation';
is_deeply $o->{await_all}, { a => 1, b => 2 }, 'await_all() takes Futures and coroutines together';
is $o->{location}, 'ok', 'getCreatedLocation() names where the FutureState was made';
ok $o->{completed_at}, 'getCompletedFileAndLine() names where it was completed';

$o = get('/future-details');
is_deeply { map { $_ => bools($o->{states}{$_}) } keys %{ $o->{states} // {} } },
    { pending => [0, 0], value => [1, 0], error => [1, 0], cancellation => [1, 1] },
    'isCompleted()/isCancelled(): an error() with an AsyncCancellation counts as cancelled';
is_deeply $o->{info_pending}, [['FutureState(pending)'], ['FutureState(pending)']], 'getAwaitingInfo() of a pending Future and FutureState';
is_deeply $o->{info_awaited}, ['FutureState(pending)'], 'the same while a coroutine awaits it';
is_deeply $o->{info_done}, [['FutureState(completed)'], ['FutureState(completed)']], 'getAwaitingInfo() once completed';
is_deeply $o->{again}, $o->{expected_again}, 'complete()/error() a second time: AsyncException with where it was first completed';

$o = get('/channel-foreach');
is_deeply $o->{foreach}, ['0=1', '1=2', '2=3', '3=4'], 'foreach receives until the channel is closed and drained, keys counting';
ok $o->{iterator}, 'getIterator() is an Iterator';
is_deeply bools($o->{traversable}), [1, 1], 'Channel is IteratorAggregate and Awaitable';

$o = get('/channel-token');
is_deeply $o->{recv}, ['Async\\OperationCanceledException', 'Async\\TimeoutException'], 'recv(timeout(30)) on an empty channel: OperationCanceledException, previous TimeoutException';
ok $o->{ms} >= 25 && $o->{ms} < 1500, sprintf('after about 30 ms (%.1f ms)', $o->{ms} // -1);
is $o->{send}, 'Async\\OperationCanceledException', 'send(..., timeout()) with nobody receiving';
is $o->{in_time}, 'in time', 'a value that comes before the token trips is received';
ok !$o->{not_closed}, 'a tripped token leaves the channel open';

$o = get('/channel-async');
is_deeply bools($o->{state0}), [1, 0], 'empty channel: isEmpty(), not isFull()';
ok $o->{send1} && !$o->{send2}, 'sendAsync(): true when there is room, false (not waiting) when full';
is_deeply bools($o->{state1}), [0, 1], 'holding its capacity: isFull()';
is $o->{recv_ready}, 'a', 'recvAsync() of a buffered value';
ok !$o->{pending} && $o->{recv_later} eq 'later', 'recvAsync() on an empty channel completes when a value comes';
ok !$o->{send_closed}, 'sendAsync() on a closed channel: false';
is_deeply $o->{recv_closed}, ['Channel is closed', 'EXPLICIT'], 'closed and empty: ChannelException, reason EXPLICIT';

$o = get('/channel-deadlock');
is_deeply $o->{recv}, ['no producers timeout', 'no producers timeout'], 'noProducerTimeout closes the channel: reason NO_PRODUCERS';
ok $o->{ms} >= 35 && $o->{ms} < 1500 && $o->{closed}, sprintf('after about 40 ms (%.1f ms), closed', $o->{ms} // -1);
is $o->{send}, 'NO_CONSUMERS', 'noConsumerTimeout: reason NO_CONSUMERS';
is $o->{steady}, 5, 'producers that keep coming within the timeout keep the channel open';
ok $o->{explicit}, 'close(): reason EXPLICIT';

# the same routes many at once on the one thread
my @res = parallel([map { sub { my $j = get('/future'); { map => $j->{map}, await => $j->{await}, fl => $j->{finally_log} } } } 1 .. 20], 60);
is scalar(grep { ($_->{map} // 0) == 42 && ($_->{await} // 0) == 20 && @{$_->{fl} // []} == 3 } @res), 20,
    '20 concurrent requests chaining Futures on one thread all get their own outcomes';

done_testing();
