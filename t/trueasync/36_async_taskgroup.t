# php-async's TaskGroup and TaskSet (issue 11): keyed tasks in a child
# scope, all()/race()/any() Futures, errors as CompositeException, the
# concurrency limit, foreach in completion order, cancel() with queued
# tasks never started, dispose() with queued tasks still started,
# finally(); TaskSet hands each outcome out once.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode parallel);

my $V = 'trueasync_taskgroup';
sub get {
    my $r = raw_request($V, path => shift, timeout => 10);
    return eval { json_decode($r->{body}) } || { error => "HTTP " . ($r->{status} // '?') . " $r->{body}" };
}

my $o = get('/group');
is $o->{count}, 3, 'count() of the tasks added';
is_deeply $o->{all}, { 0 => 'a', k => 'b', 1 => 'cd' }, 'all(): every result under its key (auto keys and spawnWithKey)';
is_deeply $o->{results}, $o->{all}, 'getResults() the same';
ok $o->{finished}, 'isFinished() once all settled';
is_deeply $o->{composite}, ['e1'], 'all() of a group with a failure: CompositeException of its errors';
is_deeply $o->{ignored}, { ok => 'fine' }, 'all(ignoreErrors: true): the results alone';
is_deeply $o->{errors}, ['e1'], 'getErrors()';
is $o->{dup}, 'Duplicate key "ok" in TaskGroup', 'a duplicate key throws AsyncException';
is $o->{race}, 'fast failure', 'race(): the first to settle, a failure rethrown';
is $o->{any}, 'second', 'any(): the first success';

$o = get('/limit');
is $o->{peak}, 2, 'concurrency 2: never more than two tasks at once';
is_deeply $o->{results}, [0 .. 5], 'every queued task ran, the spawner waiting whenever the queue was full';
is $o->{closed}, 'Cannot spawn tasks on a closed TaskGroup', 'spawn() on a closed group throws';
is $o->{not_closed}, 'TaskGroup must be closed before calling awaitCompletion()', 'awaitCompletion() needs close()';

$o = get('/iterate');
is_deeply $o->{seen}, ['early=E', 'bad=error:boom', 'late=L'], 'foreach yields key => [result, error] in completion order until closed';

$o = get('/dispose');
ok !$o->{closed}, 'dispose() leaves the group open (php-async: it disposes the scope, it does not close the group)';
is_deeply $o->{log}, ['running cancelled', 'q1 ran', 'q2 ran', 'late ran'], 'dispose(): the running task is cancelled, the queued ones start as slots free, a later spawn runs';
is_deeply $o->{results}, { q1 => 1, q2 => 2, late => 3 }, 'their results are kept';
is_deeply $o->{error}, { run => 'Async\\AsyncCancellation: Scope is being disposed due to TaskGroup disposal' }, "the cancelled task's error, php-async's message";

$o = get('/cancel');
is_deeply $o->{log}, ['running cancelled', 'finally same'], 'cancel(): the running task is cancelled, the queued one never starts, finally() gets the group';
is_deeply [map { $_ ? 1 : 0 } @{$o->{state} // []}], [1, 1], 'closed and finished';

$o = get('/set');
is $o->{next1}, 'one', 'TaskSet::joinNext(): the first to complete';
is $o->{next2}, 'bad', 'joinNext() rethrows a failure';
is $o->{count_after}, 1, 'each outcome handed out leaves the set';
is $o->{next3}, 'two', 'joinNext() again';
is $o->{count_end}, 0, 'empty once all were joined';
is_deeply $o->{all}, { 2 => 'p', 3 => 'q' }, 'joinAll() of what was added after';
is $o->{count_all}, 0, 'joinAll() empties the set';

my @res = parallel([map { sub { my $j = get('/group'); { all => $j->{all}, any => $j->{any} } } } 1 .. 15], 60);
is scalar(grep { ($_->{any} // '') eq 'second' && ($_->{all}{k} // '') eq 'b' } @res), 15,
    '15 concurrent requests with task groups on one thread: each gets its own outcomes';

done_testing();
