# 12. Fatal errors in a handler (call to undefined function, memory_limit
#     exceeded with TrueAsyncPHPIni memory_limit 32M): the request gets 500,
#     the thread boots its worker again and serves the next request with 200.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request log_mark wait_log php_line);

plan tests => 16;

my $V = 'trueasync_fatal';

my $r = raw_request($V, path => '/');
is $r->{status}, 200, 'fatal vhost answers';
my ($boot0) = ($r->{body} // '') =~ /boot=(\w+)/;
ok $boot0, 'worker reports its boot id';
like $r->{body} // '', qr/limit=32M/, 'TrueAsyncPHPIni memory_limit 32M is in effect';

# ---- call to an undefined function
my $mark = log_mark();
$r = raw_request($V, path => '/undef', timeout => 15);
is $r->{status}, 500, 'undefined function -> 500';
unlike $r->{body} // '', qr/unreachable/, 'handler did not continue';
my $log = wait_log($mark, qr/ta_this_function_does_not_exist/, 5) // '';
like $log, qr/undefined function ta_this_function_does_not_exist/i,
     'error_log names the undefined function';
my $uline = php_line('fatal.php', qr/UNDEF-LINE/);
like $log, qr/fatal\.php(?::| on line )$uline\b/, "error_log has fatal.php:$uline" or diag $log;

$r = raw_request($V, path => '/', timeout => 15);
is $r->{status}, 200, 'next request after undefined function -> 200';

# ---- memory_limit exceeded (a real bailout)
($boot0) = ($r->{body} // '') =~ /boot=(\w+)/;
$mark = log_mark();
$r = raw_request($V, path => '/oom', timeout => 20);
is $r->{status}, 500, 'memory_limit exceeded -> 500';
unlike $r->{body} // '', qr/unreachable/, 'handler did not continue';
$log = wait_log($mark, qr/Allowed memory size/, 5) // '';
like $log, qr/Allowed memory size of 33554432 bytes exhausted/, 'error_log has the memory_limit fatal';
my $oline = php_line('fatal.php', qr/OOM-LINE/);
like $log, qr/fatal\.php(?::| on line )$oline\b/, "error_log names fatal.php line $oline" or diag $log;

$r = raw_request($V, path => '/', timeout => 20);
is $r->{status}, 200, 'next request after the fatal error -> 200';
my ($boot1) = ($r->{body} // '') =~ /boot=(\w+)/;
ok $boot1 && $boot0 && $boot1 ne $boot0, 'worker script was booted again after the bailout'
    or diag "boot before=" . ($boot0 // 'undef') . " after=" . ($boot1 // 'undef');
like $r->{body} // '', qr/limit=32M/, 'rebooted worker still has memory_limit 32M';

# and again: a second fatal is handled the same way
raw_request($V, path => '/oom', timeout => 20);
$r = raw_request($V, path => '/', timeout => 20);
is $r->{status}, 200, 'still 200 after a second fatal error';
