# 31. Async\timeout() as the cancellation of await(), and Async\delay().
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TAAsync qw(aget);

plan tests => 7;

my ($s, $j) = aget('/timeout');
is $s, 200, '/timeout -> 200';
ok $j->{timed_out}, 'await(.., timeout(100)) on a 2 s coroutine throws';
is $j->{class}, 'Async\\OperationCanceledException', 'with Async\\OperationCanceledException, as php-async';
is $j->{message}, 'Operation has been cancelled', 'php-async\'s message';
is $j->{previous}, 'Async\\TimeoutException', 'the TimeoutException as its previous';
ok $j->{ms} >= 95 && $j->{ms} < 1000, sprintf('after about 100 ms (%.1f ms)', $j->{ms} // -1);

($s, $j) = aget('/timeout-not-hit');
is $j->{result}, 'in time', 'a coroutine that finishes in time returns its result';
