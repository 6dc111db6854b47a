# A request whose coroutine cannot get a fiber stack (mmap fails: here
# fiber.stack_size is larger than any mapping can be) gets 503, the reason
# is logged, and the child keeps serving everything else.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request log_mark wait_log log_since);

plan tests => 4;

my $mark = log_mark();
my $r = raw_request('trueasync_nostack', path => '/', timeout => 10);
is $r->{status}, 503, 'no fiber stack: 503';
like wait_log($mark, qr/Fiber stack allocate failed/, 5) // '', qr/Fiber stack allocate failed/, 'the reason is logged';
is raw_request('trueasync_nostack', path => '/', timeout => 10)->{status}, 503, 'the next one too, the thread still answers';
is raw_request('trueasync_guide', path => '/', timeout => 10)->{status}, 200, 'the rest of the child is unaffected';
