# 33. Cancellation: Coroutine::cancel() wakes the coroutine with the
#     CancellationError at its suspension point, finally runs, await() sees it;
#     await() with a coroutine as cancellation awaitable.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TAAsync qw(aget);

plan tests => 8;

my ($s, $j) = aget('/cancel');
is $s, 200, '/cancel -> 200';
is_deeply $j->{log}, ['caught:stop now', 'finally', 'await:stop now'],
    'caught at the suspension point, finally ran, await() rethrew it';
ok $j->{isCancelled}, 'isCancelled()';
ok $j->{isFinished}, 'isFinished() after cancellation';
ok $j->{ms} < 200, sprintf('cancellation took effect at once (%.1f ms), not after the 5 s delay', $j->{ms} // -1);

($s, $j) = aget('/cancel-await');
ok $j->{cancelled}, 'await($x, $coroutine) throws CancellationError when the cancellation finishes first';

($s, $j) = aget('/cancel-leak');
is $s, 200, '/cancel-leak -> 200';
ok defined $j->{growth} && $j->{growth} <= 4096,
   sprintf('500 coroutines cancelled while waiting leak nothing (heap growth %s bytes)', $j->{growth} // 'undef');
