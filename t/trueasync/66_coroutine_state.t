# Async\Coroutine's state methods as php-async defines them, current_coroutine()
# (the request handler's coroutine included) and get_coroutines() (issue 11).
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode log_mark wait_log);
my $mark = log_mark();

my $r = raw_request('trueasync_corostate', path => '/');
is $r->{status}, 200, 'the worker answers';
my $j = eval { json_decode($r->{body}) } || {};
# [isStarted, isQueued, isRunning, isSuspended, isCompleted]
sub b { [map { $_ ? 1 : 0 } @{ $_[0] || [] }] }
is_deeply b($j->{new}), [0, 1, 0, 0, 0], 'just spawned: queued, not started';
is_deeply b($j->{waiting}), [1, 0, 1, 1, 0], 'waiting in delay(): started, running (php-async\'s sense) and suspended';
ok $j->{me_running}, 'current_coroutine() inside the handler: running, not suspended, not queued';
ok $j->{me_same}, 'current_coroutine() gives the same object each time';
ok $j->{listed}, 'get_coroutines() lists the handler\'s coroutine and the spawned one';
ok $j->{inner_is_itself}, 'inside a spawned coroutine current_coroutine() is that coroutine';
is_deeply b($j->{done}), [1, 0, 0, 0, 1], 'finished: completed, nothing else';
ok !$j->{done_listed}, 'a finished coroutine is no longer listed';
is_deeply b($j->{cancel_requested}), [1, 0], 'after cancel(): cancellation requested, not completed yet';
is_deeply b($j->{cancelled}), [0, 1], 'once it ended: completed, no request pending';
is $j->{boot}, 'The current coroutine is not defined', 'outside any coroutine current_coroutine() throws AsyncException';
my $file = TATest::top_dir() . '/t/php/coro_state.php';
is_deeply $j->{spawn_at}, [$file, 29], 'getSpawnFileAndLine(): the spawn() call';
is $j->{spawn_loc}, "$file:29", 'getSpawnLocation()';
is_deeply $j->{suspend_at}, [$file, 30], 'getSuspendFileAndLine(): where it waits';
is $j->{suspend_after}, 'unknown', 'after it finished: no suspension point';
is_deeply $j->{request_spawn}, [undef, 0], 'the request coroutine was started by the module: [null, 0]';
is_deeply $j->{finally}, ['first:same:done', 'second'], 'finally() callbacks run in order once it finished, given the coroutine';
is_deeply $j->{finally_late}, ['first:same:done', 'second', 'late'], 'finally() on a finished coroutine runs at once';
is_deeply $j->{protect}, ['requested:yes', 'protected part finished', 'then cancelled'],
    'protect(): a cancel() meanwhile lets the closure finish, then cancels the coroutine';
is_deeply $j->{trace}, ['Async\\delay@5', 'ta_inner_wait@61', '{closure}@0'],
    'getTrace() of a waiting coroutine: its frames, innermost first, without the scheduler\'s';
is $j->{trace_limit}, 1, 'getTrace() honours $limit';
is $j->{trace_done}, undef, 'getTrace() of a finished coroutine: null';
is $j->{protect_plain}, 'ret', 'protect() returns what the closure returns';
like wait_log($mark, qr/thrown-in-finally/, 5) // '', qr/TA00910.*Uncaught RuntimeException thrown by a Coroutine::finally\(\) callback: thrown-in-finally/,
    'an exception thrown by a finally() callback is logged';
done_testing();
