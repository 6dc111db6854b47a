# 35. An exception in a spawned coroutine nobody awaits is logged with file
#     and line and the thread carries on; spawned coroutines outlive their
#     handler; their output goes to their request; bad arguments throw.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request log_mark wait_log php_line);
use TAAsync qw(aget);

plan tests => 9;

my $mark = log_mark();
my ($s, $j) = aget('/orphan');
is $s, 200, '/orphan -> 200 (the handler is not affected)';
my $line = php_line('async.php', qr/OverflowException\('orphan/);
my $log = wait_log($mark, qr/OverflowException.*orphan failure/, 5) // '';
like $log, qr/Uncaught OverflowException in coroutine \d+: orphan failure/, 'logged with its class and message';
like $log, qr{async\.php:$line\b}, "with file and line (async.php:$line)";
($s, $j) = aget('/spawn');
is $j->{result}, 42, 'the thread serves the next request';

($s, $j) = aget('/background?id=bg1');
ok $j->{returned}, 'handler returned before its spawned coroutine finished';
sleep 0.4;
($s, $j) = aget('/events');
ok((grep { $_ eq 'bg-bg1' } @{ $j->{events} || [] }), 'the spawned coroutine ran to completion afterwards');

my $r = raw_request('trueasync_async', path => '/echo-child');
is $r->{body}, "from child\nfrom handler\n", 'echo in a spawned coroutine goes to its request, in order';

($s, $j) = aget('/bad-args');
is_deeply $j->{errors}, ['ValueError', 'ValueError', 'ValueError', 'no exception', 'TypeError'],
    'delay(-1), timeout(0), new Channel(-1) throw ValueError; await_any_or_fail([]) returns (null, as php-async); spawn(bad) TypeError';
($s, $j) = aget('/spawn');
is $s, 200, 'still serving';
