# TrueAsyncMaxWaitTime (issue 12): requests stuck in the queue behind a
# thread busy computing get 503 with Retry-After once they waited 300 ms,
# and PHP never sees them; the busy request itself completes.
# TrueAsyncMaxConsecutiveFailures 2: a worker script that never boots is
# logged at level error once, its requests keep getting 503, it keeps
# retrying.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request parallel log_since);

plan tests => 9;

my $V = 'trueasync_maxwait';
sub seen { my $r = raw_request($V, path => '/count', timeout => 10); ($r->{body} // '') =~ /seen=(\d+)/ ? $1 : -1 }

my $before = seen();
my @jobs = (sub {
    my $r = raw_request($V, path => '/busy?ms=1500', timeout => 15);
    { status => $r->{status} // 0 }
});
push @jobs, map { sub {
    sleep 0.2;
    my $t0 = time;
    my $r = raw_request($V, path => '/queued', timeout => 15);
    { status => $r->{status} // 0, secs => time - $t0, retry => TATest::Conn::hdr($r, 'Retry-After') }
} } 1 .. 5;
my ($busy, @queued) = parallel(\@jobs, 30);
is $busy->{status}, 200, 'the request computing for 1.5 s completes';
is scalar(grep { $_->{status} == 503 } @queued), 5, 'the 5 requests queued behind it get 503';
is scalar(grep { ($_->{retry} // '') eq '2' } @queued), 5, '... with Retry-After (TrueAsyncRetryAfter 2)';
my @late = grep { $_->{secs} < 0.25 || $_->{secs} > 1.2 } @queued;
ok !@late, '... after waiting about 300 ms, before the busy one ended'
    or diag explain [map { $_->{secs} } @queued];
is seen(), $before + 2, 'PHP never saw them (it counted only /busy and /count)';

# a worker that never boots
my $r = raw_request('trueasync_bootfail', path => '/', timeout => 10);
is $r->{status}, 503, 'a worker script that never boots: 503';
my @lines = grep { /TA00901:.*boot_fail\.php/ } split /\n/, log_since(0);
is scalar(@lines), 1, 'TrueAsyncMaxConsecutiveFailures 2: logged once, not at every later failure' or diag explain \@lines;
like $lines[0] // '', qr/\[trueasync:error\].*failed to boot 2 times in a row/, '... at level error, with the count';
my $fails = 0;
for (1 .. 80) {     # the retry delay grows: 1 s, 2 s, ... after the server started
    $fails = () = log_since(0) =~ /TA0081[24]: worker script \S+boot_fail\.php/g;
    last if $fails >= 3;
    sleep 0.1;
}
cmp_ok $fails, '>=', 3, "... and the thread keeps retrying ($fails failed boots so far)";
