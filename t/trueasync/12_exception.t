# 11. Uncaught exception in a handler -> 500 for that request, the error log
#     has the message with file and line, other requests on the same PHP
#     thread carry on, the next request gets 200.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request log_mark wait_log php_line);

plan tests => 14;

my $V = 'trueasync_errors';
my $line = php_line('errors.php', qr/THROW-LINE/);
my $late_line = php_line('errors.php', qr/LATE-THROW-LINE/);

my $r = raw_request($V, path => '/?id=first');
is $r->{status}, 200, 'worker answers';

# a slow request is in flight on the (only) PHP thread while another throws
my $slow = TATest::Conn->new($V);
$slow->send_request(path => '/slow?ms=800&id=S');
sleep 0.2;

my $mark = log_mark();
my $tag = "t$$" . int(rand 1e6);
my $t0 = time;
$r = raw_request($V, path => "/throw?tag=$tag");
is $r->{status}, 500, 'uncaught exception -> 500';
ok time - $t0 < 0.6, '500 came without waiting for the slow request';
unlike $r->{body} // '', qr/ta-boom/, 'exception message not leaked to the client';
like $r->{body} // '', qr/<title>500 Internal Server Error<\/title>/, 'Apache answers with its own error page (or the ErrorDocument)';

my $log = wait_log($mark, qr/ta-boom-\Q$tag\E/, 5) // '';
like $log, qr/ta-boom-\Q$tag\E/, 'error_log has the exception message';
my ($entry) = $log =~ /^(.*ta-boom-\Q$tag\E.*)$/m;
my $near = substr($log, index($log, "ta-boom-$tag") >= 0 ? index($log, "ta-boom-$tag") : 0, 600);
like $near, qr/errors\.php(?::| on line |\()\s*$line\b/, "error_log names errors.php and line $line"
    or diag $log;
like $log, qr/RuntimeException/, 'error_log names the exception class';

my $rs = $slow->read_response(timeout => 10);
$slow->close;
is $rs->{status}, 200, 'concurrent request on the same thread finished with 200';
like $rs->{body} // '', qr/slow done S/, '... with its own body';

$r = raw_request($V, path => '/?id=after');
is $r->{status}, 200, 'next request -> 200';
like $r->{body} // '', qr/ok after/, 'next request body';

# exception thrown after the coroutine was suspended
$mark = log_mark();
$r = raw_request($V, path => "/throw-after-write?tag=$tag");
is $r->{status}, 500, 'exception after a suspension point -> 500';
$log = wait_log($mark, qr/ta-late-\Q$tag\E/, 5) // '';
like $log, qr/errors\.php(?::| on line |\()\s*$late_line\b/, 'error_log names file:line for it too'
    or diag $log;
