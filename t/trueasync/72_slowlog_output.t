# TrueAsyncSlowlogTimeout 200 (issue 12): a coroutine that computes 600 ms
# without suspending is logged once, with the request's URI and its PHP
# backtrace (function, file, line). Prompt output: a write() followed by a
# 500 ms busy loop delivers its first chunk at once (under 100 ms), while
# a write() directly followed by end() still goes out as one response
# with Content-Length (a single wake-up).
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request log_mark wait_log log_since php_line top_dir);

plan tests => 8;

my $V = 'trueasync_slowlog';
my $line = php_line('slowlog.php', qr/burn-line/);
my $file = top_dir() . '/t/php/slowlog.php';

my $mark = log_mark();
my $r = raw_request($V, path => '/slow', timeout => 10);
is $r->{status}, 200, 'the slow request completes';
my $log = wait_log($mark, qr/TA00902: slow request GET \/slow/, 5) // '';
like $log, qr/TA00902: slow request GET \/slow: .* for \d+ ms without suspending/, 'the slow log names the URI';
like $log, qr/backtrace: #0 burn\(\) \Q$file\E:$line; #1 \{closure\}\(\) \Q$file\E:\d+/,
    "... and the backtrace: burn() at slowlog.php:$line, called from the handler" or diag $log;
sleep 0.3;
my @hits = grep { /TA00902: slow request GET \/slow/ } split /\n/, log_since($mark);
is scalar(@hits), 1, '... once per occurrence';

my $c = TATest::Conn->new($V);
$c->send_request(path => '/write-spin');
$r = $c->read_response(timeout => 10);
$c->close;
is $r->{status}, 200, 'write(), 500 ms busy loop, write(): 200';
my @ch = @{ $r->{chunks} };
ok @ch >= 2 && $ch[0]{data} eq "first\n", 'the first chunk arrives on its own' or diag explain $r;
cmp_ok $ch[0]{t} - $c->{sent_at}, '<', 0.1, sprintf('... %.0f ms after the request was sent (under 100 ms)',
    ($ch[0]{t} - $c->{sent_at}) * 1000);

$r = raw_request($V, path => '/write-end', timeout => 10);
is TATest::Conn::hdr($r, 'Content-Length'), length("all at once\n"),
    'write() then end(): one response with Content-Length (Apache woken once)';
