# 30. Async\spawn, Async\await, Async\suspend and the Coroutine class, through
#     real requests; await() at worker boot (outside any coroutine).
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TAAsync qw(aget);

plan tests => 14;

my ($s, $j) = aget('/spawn');
is $s, 200, '/spawn -> 200';
is $j->{result}, 42, 'await() returns the coroutine result (6 * 7)';
is $j->{getResult}, 42, 'Coroutine::getResult() after it finished';
ok !$j->{before} && $j->{after}, 'isFinished(): false while running, true after await';
ok $j->{id_positive}, 'getId() is positive';
is $j->{class}, 'Async\\Coroutine', 'spawn() returns an Async\\Coroutine';
ok !$j->{cancelled}, 'isCancelled() false for a normal coroutine';

($s, $j) = aget('/ids');
ok $j->{distinct}, 'two coroutines have distinct ids';
is_deeply $j->{results}, [1, 2], 'both results';

($s, $j) = aget('/suspend');
is $j->{order}, 'x0,y0,x1,y1,x2,y2', 'suspend() lets the other coroutine run (interleaved)';

($s, $j) = aget('/boot');
is $j->{boot}, 'boot-5', 'await() while the worker script boots drives the loop';

($s, $j) = aget('/await-exception');
ok $j->{caught}, 'await() rethrows the exception of the awaited coroutine';
is "$j->{msg}/$j->{code}", 'from child/42', 'same message and code';
is $j->{getException}, 'DomainException', 'Coroutine::getException()';
