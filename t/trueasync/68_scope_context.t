# php-async's structured concurrency and contexts (issue 11): Async\Scope
# (spawn, cancel through child scopes, awaitCompletion with its token,
# exception handlers, finally, disposal), spawn_with() and SpawnStrategy,
# Async\Context lookups up the scope tree, request_context(); the
# exception tree (AsyncCancellation under \Cancellation, CancellationError
# kept as an alias), Completable and Timeout::cancel(); a request's scope
# cancelled with everything it spawned when its client goes; contexts of
# concurrent requests on one thread never mix.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request json_decode parallel);

my $V = 'trueasync_scope';
sub get {
    my $r = raw_request($V, path => shift, timeout => 10);
    is $r->{status}, 200, "$r->{path} -> 200" if 0;
    return eval { json_decode($r->{body}) } || { error => "HTTP " . ($r->{status} // '?') . " $r->{body}" };
}

sub bools { [map { $_ ? 1 : 0 } @{ $_[0] // [] }] }

my $o = get('/exceptions');
is_deeply $o->{parents}{'Async\\AsyncCancellation'}, ['Cancellation', 'Error'], 'AsyncCancellation extends \\Cancellation (an Error here)';
is_deeply $o->{parents}{'Async\\OperationCanceledException'}, ['Async\\AsyncCancellation', 'Cancellation', 'Error'],
    'OperationCanceledException extends AsyncCancellation';
is $o->{alias}, 'Async\\AsyncCancellation', 'CancellationError is an alias of AsyncCancellation';
is_deeply [map { $o->{parents}{"Async\\$_"} } qw(TimeoutException DnsException InputOutputException PollException)],
    [(['Exception']) x 4], 'TimeoutException, DnsException, InputOutputException, PollException extend \\Exception, as upstream';
is_deeply $o->{parents}{'Async\\DeadlockError'}, ['Error'], 'DeadlockError extends \\Error';
is_deeply $o->{parents}{'Async\\ServiceUnavailableException'}, ['Async\\AsyncException', 'Exception'], 'ServiceUnavailableException extends AsyncException';
is_deeply $o->{composite}, ['RuntimeException:a', 'LogicException:b'], 'CompositeException collects its exceptions in order';
is_deeply bools($o->{completable}), [1, 1], 'Coroutine and Timeout are Completable';
is $o->{caught_by}, 'Cancellation', 'catch (Exception) does not swallow a cancellation';

$o = get('/timeout-cancel');
is_deeply bools($o->{state}), [1, 1], 'Timeout::cancel(): completed (it never fires: php-async), cancelled';
is $o->{result}, 'done', 'a cancelled timeout never trips the wait it bounds';
is_deeply bools($o->{fired}), [1, 0], 'a timeout that fired: completed, not cancelled';

$o = get('/is-cancelled');
is_deeply bools($o->{before}), [0, 1], 'isCancelled() false while the cancellation is only requested';
is_deeply bools($o->{after}), [1, 0], 'isCancelled() true once it finished cancelled (php-async)';

$o = get('/scope-basic');
is_deeply bools($o->{fresh}), [1, 0, 0], 'a new Scope: finished, not closed, not cancelled';
is_deeply $o->{results}, [42, 'b'], 'Scope::spawn() runs closures with their arguments';
ok !$o->{running} && $o->{done}, 'isFinished() false while its coroutines run, true after awaitCompletion()';
ok $o->{provider} && $o->{children}, 'provideScope() is the scope; getChildScopes() lists Scope::inherit() children';

$o = get('/scope-cancel');
is_deeply $o->{log}, ['child:finally', 'child:stop all', 'parent:finally', 'parent:stop all'],
    'cancel() throws its AsyncCancellation into its coroutines and its child scopes\'; finally blocks run';
is_deeply bools($o->{state}), [1, 1, 1, 1, 1, 1], 'cancelled, closed, finished (children too), coroutines isCancelled()';
is $o->{outside}, 'untouched', 'a coroutine outside the scope runs on';
is $o->{spawn_closed}, 'Cannot spawn a coroutine in a closed scope', 'spawning in a closed scope throws AsyncException';

$o = get('/scope-await-timeout');
is $o->{threw}, 'Async\\TimeoutException', 'awaitCompletion(timeout()) throws OperationCanceledException with the TimeoutException as previous';
ok !$o->{still} && $o->{late} eq 'late', 'the scope keeps running after the token tripped';

$o = get('/scope-self-await');
is $o->{inner}, 'Async\\AsyncException: Cannot await completion of scope from a coroutine that belongs to the same scope or its children',
    'awaiting its own scope throws';

$o = get('/scope-handler');
is_deeply [map { [$_->[0] eq '1' || $_->[0] eq 'child-handler' ? ($_->[0] eq 'child-handler' ? 'child-handler' : 1) : 0, $_->[1]] } @{$o->{got} // []}], [[1, 'boom'], ['child-handler', 'from a child scope']],
    'setExceptionHandler() gets (scope, coroutine, error); setChildScopeExceptionHandler() takes what child scopes throw';

$o = get('/scope-fail');
is_deeply $o->{await}, ['RuntimeException', 'boom', 1], "a coroutine's uncaught exception fails awaitCompletion() with that exception";
is_deeply bools($o->{state}), [1, 1], 'the failed scope is cancelled, and its other coroutines with it';
is $o->{up}, 'LogicException: deep', 'no handler in the child scope: the failure goes up to the parent scope';
is_deeply bools($o->{up_state}), [1, 1], 'both scopes on the way are cancelled';
is $o->{handled}, 'late', "a parent's child-scope handler takes it: the parent goes on";
is_deeply bools($o->{handled_state}), [1, 0], 'the child scope without a handler is cancelled, its parent is not';
is_deeply $o->{awaited}, ['returned', 'mine'], 'an exception someone awaits is theirs: the scope completes';
ok !$o->{awaited_state}, 'and is not cancelled';

$o = get('/scope-finally');
is_deeply $o->{log}, ['disposed', 'work', 'finally:same'], 'finally() runs once the closed scope finished, given the scope';

$o = get('/scope-destroy');
is_deeply $o->{log}, ['Scope is being disposed due to object destruction'], 'a Scope object that goes cancels what runs in it';

$o = get('/scope-dispose-timeout');
is $o->{outcome}, 'cancelled', 'disposeAfterTimeout() cancels what still runs';
ok $o->{ms} >= 25 && $o->{ms} < 1500 && $o->{closed}, sprintf('after its timeout (%.1f ms), closed', $o->{ms} // -1);

$o = get('/spawn-with');
is $o->{result}, 5, 'spawn_with(provider, task, ...args)';
is_deeply $o->{seen}, ['before', 'after'], 'a SpawnStrategy hears before and after';
is $o->{in_scope}, 'cancelled with its scope', 'spawn_with(Scope) spawns into that scope';

$o = get('/context?id=one');
ok $o->{request_is_current}, 'in a handler current_context() is request_context()';
ok $o->{root} && !$o->{root_local}, 'find() reaches root_context() (set at boot); hasLocal() does not';
ok $o->{coroutine_ctx}, 'Coroutine::getContext() is coroutine_context()';
is_deeply $o->{child}, ['one', 'obj-one', undef, 'one', 'one'],
    'a spawned coroutine: get() from the request scope, object keys, its own coroutine_context(), request_context()';
is_deeply $o->{inner}, ['shadow', 'shadow', 'one'], 'a child scope\'s context shadows, request_context() still the request\'s';
is_deeply [@{$o->{detached}}[0, 1], $o->{detached}[2] ? 1 : 0], [undef, undef, 1], 'new Scope() stops lookups: no request values, no request_context(); root_context() still there';
is $o->{set_twice}, 'ContextException', 'set() of a held key without $replace throws';
is $o->{replaced}, 'one!', 'set(..., replace: true)';
is $o->{missing}, 'Context key "missing" not found', 'get() of a missing key throws ContextException';
ok !defined $o->{find_missing} && !$o->{unset}, 'find() of a missing key is null; unset() removes';
is $o->{bad_key}, 'TypeError', 'a key that is neither string nor object is a TypeError';

# Many requests at once on the one PHP thread, their coroutines
# interleaving: each sees only its own request's context.
my @jobs = map { my $i = $_; sub { my $r = raw_request($V, path => "/context?id=r$i", timeout => 20);
                                   my $j = eval { json_decode($r->{body}) } || {};
                                   return { i => $i, status => $r->{status}, child => $j->{child}, inner => $j->{inner}, id => $j->{id} } } } 1 .. 40;
my @res = parallel(\@jobs, 60);
my @bad = grep { my $i = $_->{i} // -1;
                 !($_->{id} && $_->{id} eq "r$i" && $_->{child} && $_->{child}[0] eq "r$i" && $_->{child}[1] eq "obj-r$i"
                   && $_->{child}[3] eq "r$i" && $_->{inner}[2] eq "r$i") } @res;
is scalar(@bad), 0, '40 concurrent requests on one thread: every coroutine saw its own request\'s context'
    or diag explain $bad[0];

# The client goes: the handler, what it spawned and what it spawned in a
# child scope are all cancelled.
my $tag = "s$$" . int(rand 1e6);
my $log = "/tmp/ta_scope_$tag.log";
unlink $log;
my $c = TATest::Conn->new($V);
$c->send_request(path => "/request-scope-cancel?tag=$tag");
my $t0 = time;
sleep 0.05 while !-s $log && time - $t0 < 3;
sleep 0.2;
$c->close;
my @lines;
while (time - $t0 < 4) {
    @lines = do { open my $fh, '<', $log or (); map { chomp; $_ } <$fh> };
    last if @lines >= 4;
    sleep 0.1;
}
is_deeply [sort @lines], ['child:Client disconnected', 'handler:Client disconnected', 'scoped:Client disconnected', 'start'],
    'a departed client cancels the request\'s coroutine, its children and its child scopes\' coroutines';
unlink $log;

done_testing();
