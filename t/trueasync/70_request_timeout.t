# TrueAsyncRequestTimeout (issue 12): one PHP thread; a handler in
# `while (true) {}` under a 1 s timeout gets 504 within 2 s, through the
# VM interrupt of that coroutine only: 20 requests waiting in
# Async\delay() on the same thread (a location with 10 s) all get 200 and
# the worker script is not booted again. A waiting handler gets 504 and
# its finally block runs; so do the coroutines it spawned. A response that
# had begun is cut (connection closed). A location with 0 has no timeout.
# The error log names the URI and the elapsed time; the access log has
# the request notes.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request parallel log_mark wait_log json_decode);

plan tests => 18;

my $V = 'trueasync_timeout';
sub boot_id { my $r = raw_request($V, path => '/', timeout => 10); ($r->{body} // '') =~ /boot=(\w+)/ ? $1 : 'none' }
sub events { my $r = raw_request($V, path => "/events?id=$_[0]", timeout => 10); eval { json_decode($r->{body}) } || [] }

sub thread_stats {
    my $r = raw_request(undef, path => '/trueasync-status?json', timeout => 10);
    my $j = eval { json_decode($r->{body}) } or return {};
    my ($w) = grep { $_->{worker} =~ m{/timeout\.php$} } @{ $j->{children}[0]{workers} };
    return $w ? $w->{threads}[0] : {};
}
my $boot = boot_id();
my $st0 = thread_stats();
my $mark = log_mark();
my @jobs = map { my $i = $_; sub {
    my $r = raw_request($V, path => "/long/delay?ms=400&i=$i", timeout => 15);
    { status => $r->{status} // 0 }
} } 1 .. 20;
push @jobs, sub {
    sleep 0.1;                      # the others are waiting in delay() by now
    my $t0 = time;
    my $r = raw_request($V, path => '/spin', timeout => 15);
    { status => $r->{status} // 0, secs => time - $t0 }
};
my @res = parallel(\@jobs, 30);
my $spin = pop @res;
is $spin->{status}, 504, 'while (true) {} under TrueAsyncRequestTimeout 1: 504';
cmp_ok $spin->{secs}, '<', 2, sprintf('... within 2 s (%.2f s)', $spin->{secs} // -1);
is scalar(grep { $_->{status} == 200 } @res), 20, 'the 20 requests waiting in delay() on the same thread all get 200';
is boot_id(), $boot, 'the thread was not rebooted (same boot of the worker script)';
my $st1 = thread_stats();
is $st1->{boots_total}, $st0->{boots_total}, "... and its boot count did not change ($st1->{boots_total})";
is $st1->{timeouts_total}, $st0->{timeouts_total} + 1, '... its timeouts_total counted the one';
my $log = wait_log($mark, qr/TA00900: GET \/spin timed out/, 5) // '';
like $log, qr/TA00900: GET \/spin timed out after 1\.\d+ s/, 'the error log names the URI and the elapsed time';

# a waiting handler
my $id = "w$$";
my $t0 = time;
my $r = raw_request($V, path => "/wait?id=$id", timeout => 10);
is $r->{status}, 504, 'a handler waiting in delay(5000) gets 504';
cmp_ok time - $t0, '<', 2.5, '... after about 1 s';
is_deeply events($id), ['started', 'cancelled', 'finally'], '... its coroutine got the cancellation and its finally block ran';

# coroutines it spawned are cancelled too
my $sid = "s$$";
$r = raw_request($V, path => "/spawn?id=$sid", timeout => 10);
is $r->{status}, 504, 'a handler awaiting a spawned coroutine gets 504';
my $ev = [];
for (1 .. 20) { $ev = events($sid); last if grep { $_ eq 'child finally' } @$ev; sleep 0.1 }
is_deeply $ev, ['child finally'], '... and the spawned coroutine was cancelled (its finally ran, it did not complete)';

# a response that had begun is cut
$r = raw_request($V, path => '/write-spin', timeout => 10);
is $r->{status}, 200, 'a response begun before the timeout keeps its status';
ok !$r->{complete}, '... and its connection is closed before the body ends' or diag explain $r;
like $r->{body} // '', qr/begun/, '... after what was written';

# per location: none under /stream
$r = raw_request($V, path => '/stream/delay?ms=1500', timeout => 10);
is $r->{status}, 200, 'TrueAsyncRequestTimeout 0 in <Location /stream>: a 1.5 s request completes';

# access-log notes
my $notes = Apache::Test::vars('t_logs') . '/trueasync_notes_log';
my $text = '';
for (1 .. 20) { open my $fh, '<', $notes; local $/; $text = <$fh> // ''; last if $text =~ m{^/stream/delay}m; sleep 0.1 }
like $text, qr{^/stream/delay 200 thread=0 queue_us=\d+$}m, 'access log: %{trueasync-thread}n and %{trueasync-queue-us}n';
like $text, qr{^/spin 504 thread=0 queue_us=\d+$}m, '... also for the timed-out request';
