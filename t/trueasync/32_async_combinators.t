# 32. Async\await_all and Async\await_any_or_fail.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TAAsync qw(aget);

plan tests => 9;

my ($s, $j) = aget('/all');
is $s, 200, '/all -> 200';
is_deeply $j->{results}, { a => 'A', c => 'C' }, 'await_all results keep their keys';
is_deeply $j->{errors}, { b => 'LogicException:B failed' }, 'errors keyed like the input';
ok $j->{ms} >= 95 && $j->{ms} < 250, sprintf('three 100 ms coroutines ran at once (%.1f ms)', $j->{ms} // -1);

($s, $j) = aget('/all-fill');
is_deeply $j->{results}, [1, undef], 'fillNull puts null where a coroutine failed';
is $j->{n_errors}, 1, 'and reports the error';

($s, $j) = aget('/any');
is $j->{first}, 'fast', 'await_any_or_fail returns the first to finish';
ok $j->{ms} < 250, sprintf('without waiting for the slow one (%.1f ms)', $j->{ms} // -1);

($s, $j) = aget('/any-fail');
is $j->{msg}, 'first failed', 'await_any_or_fail throws when the first to finish failed';
