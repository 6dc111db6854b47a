# php-async's await family beyond await()/await_all()/await_any_or_fail()
# (issue 11): outcomes taken in completion order, keys kept, the
# *_or_fail forms throw the first failure, a cancellation ends the wait;
# a Traversable is consumed by a coroutine of its own while the caller
# already waits, as php-async does.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);

my $r = raw_request('trueasync_awaitfam', path => '/');
is $r->{status}, 200, 'the worker answers';
my $o = eval { json_decode($r->{body}) } || {};
is_deeply $o->{all}, { a => 'A', b => 'B', c => 'C' }, 'await_all_or_fail: every result under its key';
like $r->{body}, qr/"all":\{"a":"A","b":"B","c":"C"\}/, 'await_all_or_fail: in input order (preserveKeyOrder)';
like $r->{body}, qr/"all_completion_order":\{"b":"B","a":"A"\}/, 'preserveKeyOrder=false: in completion order';
is_deeply $o->{all_completion_order}, { b => 'B', a => 'A' }, 'await_all_or_fail with preserveKeyOrder=false: the same map';
is $o->{all_fail}, 'boom', 'await_all_or_fail throws the first failure by completion';
is_deeply $o->{all_empty}, [], 'await_all_or_fail of nothing: []';
is_deeply $o->{all_generator}, { x => 1, y => 2 }, 'await_all_or_fail takes a Generator, keys kept';
is_deeply $o->{first}, ['fast', ['RuntimeException:e1']], 'await_first_success: the first success, and the errors before it';
is_deeply $o->{first_none}, [undef, { p => 'RuntimeException:p1', q => 'RuntimeException:q1' }],
    'await_first_success when all fail: null and every error, keyed';
is_deeply $o->{any_of}, [{ c => 'C', d => 'D' }, { b => 'RuntimeException:bad' }],
    'await_any_of(2): the first two successes and the failure before them';
is_deeply $o->{any_of_all_in}, [{ a => 'A', b => undef }, { b => 'RuntimeException:bad' }],
    'await_any_of asking for more than can succeed returns once all are in (fillNull)';
is_deeply $o->{any_of_or_fail}, { b => 'B', c => 'C' }, 'await_any_of_or_fail(2): the first two results';
is $o->{any_of_or_fail_err}, 'early', 'await_any_of_or_fail throws the first failure';
is $o->{cancel} // '', 'Async\\OperationCanceledException', 'a tripped timeout() ends the wait with OperationCanceledException';
like $o->{negative} // '', qr/must be greater than or equal to 0/, 'a negative count is refused with ValueError';
is_deeply $o->{gen_coroutine}, [1, 0], 'a Generator is consumed by one coroutine of its own, not the awaiting one (php-async)';
is_deeply $o->{gen_suspends}, ['fast', 1], 'a Generator that suspends: what it yielded so far completes await_any_or_fail() before it is exhausted';
is $o->{gen_throws_any}, 'first', 'a Generator that throws after its first element completed: await_any_or_fail() has its result';
is $o->{gen_throws_all}, 'LogicException: gen broke', 'await_all() of a Generator that throws: that exception';
done_testing();
