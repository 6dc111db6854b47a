# php-async's semantics, each a small program run inside the request
# coroutine whose printed lines (their order included) are compared
# (issue 20): a Channel value handed to a receiver cancelled before it ran
# goes to the next receiver or back into the buffer; TaskGroup::finally()
# runs (and at once on a group already over); what finally() callbacks
# throw reaches the scope's exception handler (several: one
# CompositeException) before the awaiting coroutine resumes; a scope
# handler runs as the coroutine ends and never gets an exception the
# request awaited; cancelling a scope cancels the scopes below it, and a
# safe scope (Scope::inherit() of the request's) lets started coroutines
# finish; awaitCompletion() of a cancelled scope throws; a coroutine parked
# in suspend() is suspended and has a trace; Pool waiters are served in
# order; iterate() cancels the callbacks in flight (and the worker not
# started yet) when one fails; a
# Channel whose Scope is disposed closes (SCOPE_DISPOSED); a Future nobody
# used warns; Future::finally() chains the failure it followed; object
# keys, await_any_or_fail([]), a cancelled Timeout, and php-async's
# messages word for word.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request);

my $V = 'trueasync_semantics';
sub run_path {
    my $r = raw_request($V, path => shift, timeout => 15);
    return ($r->{status} // 0) == 200 ? $r->{body} : "HTTP " . ($r->{status} // '?') . " " . ($r->{body} // $r->{error} // '');
}
sub lines { join '', map { "$_\n" } @_ }

my %expect = (
    '/channel-next-receiver' => lines('second got: v', 'first: first cancelled', 'count: 0'),
    '/channel-back-to-buffer' => lines('receiver: cancelled', 'count: 1', 'a later recv: w'),
    '/group-finally' => lines('results: a,b', 'finally: 2 tasks', 'a finally added once it is over runs at once', 'end'),
    '/finally-errors' => lines('finally one', 'finally two', 'handler: composite of LogicException f1, RangeException f2',
        'awaited: body', 'handler: DomainException only one', 'second result: 1',
        'scope finally, finished: yes', 'handler: UnexpectedValueException from scope finally', 'after the scope',
        'handler: OutOfRangeException from group finally', 'end'),
    '/handler-timing' => lines('handler: RuntimeException boom', 'after one suspend', 'caught: awaited by the request', 'end'),
    '/cancel-tree' => lines('grandchild cancelled', 'child cancelled: yes, grandchild cancelled: yes'),
    '/cancel-safe' => lines('the started one finished', 'started: done',
        'scope cancelled: yes, started cancelled: no, unstarted cancelled: yes', 'new Scope(): cancelled'),
    '/await-cancelled' => lines('awaitCompletion threw: The scope has been cancelled', 'once it is over: finished yes'),
    '/suspended' => lines('isSuspended: yes', 'trace: Async\\suspend < {closure}', 'result: r', 'isSuspended once finished: no'),
    '/pool-fifo' => lines('the waiter got it', 'the releaser got it again', 'idle: 1'),
    '/iterate-failure' => lines('begin 1', 'begin 2', 'caught: error at 2', 'done'),
    '/channel-receivers' => lines('spawned', 'send 1', 'A got 1', 'send 2', 'send 3', 'A got 2', 'sender closed',
        'B got 3', 'B: closed', 'A: closed'),
    '/channel-scope-disposed' => lines('Async\\ChannelException: Channel closed: owner scope disposed, SCOPE_DISPOSED'),
    '/future-misc' => lines('warning: Future was never used; call await(), map(), catch(), finally() or ignore() to suppress this warning. (created at)',
        'after the unused one', 'awaited: 3', 'top: finally boom, previous: parent boom'),
    '/await-misc' => lines('Async\\AsyncException: Invalid key type: must be string, long or null', "await_any_or_fail([]): NULL",
        'a cancelled Timeout is completed: yes', 'ValueError: Timeout value must be greater than 0',
        'ValueError: Async\\Channel::__construct(): Argument #1 ($capacity) must be between 0 and 2147483647',
        'ValueError: Async\\TaskGroup::__construct(): Argument #1 ($concurrency) must be between 0 and 4294967295',
        'Async\\AsyncException: Cannot call any() on an empty TaskGroup', 'Async\\AsyncException: Cannot race on an empty TaskGroup'),
);
my @paths = sort keys %expect;
plan tests => scalar @paths;
is run_path($_), $expect{$_}, $_ for @paths;
