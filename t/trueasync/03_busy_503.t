# 3. TrueAsyncThreads 1 + TrueAsyncBufferSize 1: while request A holds the
#    only slot, request B gets 503 + Retry-After from Apache at once, and
#    PHP never sees B. After A is done, requests get 200 again.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request);

plan tests => 13;

my $V = 'trueasync_busy';

my $c0 = raw_request($V, path => '/count');
is $c0->{status}, 200, '/count before -> 200';
my ($seen0) = ($c0->{body} // '') =~ /seen=(\d+)/;
ok defined $seen0, 'PHP reports its request count' or diag $c0->{body};
$seen0 //= 0;

# A: occupies the single slot for ~1.5 s
my $tA = time;
my $A = TATest::Conn->new($V);
$A->send_request(path => '/hold?id=A&ms=1500');
sleep 0.3;    # let A reach the PHP thread

# B: must be refused immediately
my $tB = time;
my $B = raw_request($V, path => '/quick?id=B', timeout => 10);
my $B_elapsed = time - $tB;
is $B->{status}, 503, 'B -> 503 while A holds the only slot';
is TATest::Conn::hdr($B, 'Retry-After'), '3', 'B has Retry-After: 3 (TrueAsyncRetryAfter)';
ok $B_elapsed < 0.5, sprintf('503 came at once (%.3f s)', $B_elapsed);
unlike $B->{body} // '', qr/ok B/, '503 body is not from PHP';

# A completes normally, after B was answered
my $rA = $A->read_response(timeout => 10);
$A->close;
my $A_elapsed = time - $tA;
is $rA->{status}, 200, 'A -> 200';
like $rA->{body} // '', qr/^held A/, 'A body';
ok $A_elapsed >= 1.4, sprintf('A really held the slot (%.3f s)', $A_elapsed);
ok $tB + $B_elapsed < $tA + $A_elapsed - 0.8, 'B was answered well before A finished';

# after A: slot free again
my $after = raw_request($V, path => '/quick?id=C');
is $after->{status}, 200, 'request after A -> 200';
like $after->{body} // '', qr/^ok C/, 'request after A: body from PHP';

# seen0 already counts the first /count; since then PHP saw A, C and the
# second /count -> +3. B must not be among them.
my $c1 = raw_request($V, path => '/count');
my ($seen1) = ($c1->{body} // '') =~ /seen=(\d+)/;
is $seen1, $seen0 + 3, 'PHP never saw the 503-ed request B'
    or diag "seen before=$seen0 after=" . ($seen1 // 'undef');
