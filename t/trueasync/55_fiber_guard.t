# PHP's own Fiber API cannot take a coroutine's fiber away from the
# scheduler: Fiber::suspend() in a coroutine, and resume()/throw() on the
# fiber of a coroutine (its own or another's, from Fiber::getCurrent()),
# throw FiberError; the coroutines carry on; fibers the script makes itself
# work as in PHP.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);

plan tests => 10;

my $r = raw_request('trueasync_isolation', path => '/fiber');
is $r->{status}, 200, 'the handler goes on after each refused call';
my $o = json_decode($r->{body} // '{}');
like $o->{suspend}, qr/^FiberError: Cannot suspend the fiber of an Async coroutine/, 'Fiber::suspend() in a coroutine';
like $o->{resume_self}, qr/^FiberError: Cannot resume the fiber of an Async coroutine/, 'resume() of its own fiber';
like $o->{resume_other}, qr/^FiberError: Cannot resume the fiber of an Async coroutine/, 'resume() of another coroutine\'s fiber';
like $o->{throw_other}, qr/^FiberError: Cannot throw into the fiber of an Async coroutine/, 'throw() into another coroutine\'s fiber';
is $o->{child}, "returned 'child done'", 'that coroutine still completes normally';
is $o->{user_start}, "returned 'paused'", 'a Fiber of the script starts and suspends as in PHP';
is $o->{user_resume}, 'returned NULL', '... resumes';
is $o->{user_result}, "returned 'got go'", '... and returns';
is raw_request('trueasync_isolation', path => '/wait?ms=1')->{status}, 200, 'the thread serves the next request';
