# Slow and departed clients cannot hold a worker's slots (one thread, room
# for 3 requests, Timeout 2): a client that stops reading a streamed
# response is cancelled after Apache's Timeout and its slot comes back;
# requests whose clients leave while queued free their slots at once, even
# when the thread is busy in code that never suspends; and when the client
# of that busy request leaves, the code is interrupted at once, so the
# thread is not lost to it.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);
use Time::HiRes qw(time sleep);

plan tests => 12;

my $V = 'trueasync_slow';
# {} while the slots are full (503)
sub state { my $r = raw_request($V, path => '/state', timeout => 20); $r->{status} == 200 ? json_decode($r->{body}) : {} }
sub ended { my $id = shift; scalar grep { $_ eq $id } @{ state()->{ended} || [] } }
sub open_req {
    my ($path) = @_;
    my $c = TATest::Conn->new($V);
    $c->send_request(path => $path);
    return $c;
}
# A request that gets a status within $secs, or undef if none came.
sub quick_status {
    my ($path, $secs) = @_;
    my $c = open_req($path);
    my $r = $c->read_response(timeout => $secs);
    $c->close;
    return $r->{status};
}

my $boot = state()->{boot};
ok $boot, 'worker answers';

# ---- clients that stop reading
my @slow = map { open_req("/big?id=slow$_") } 1 .. 3;
sleep 0.5;
is quick_status('/?id=probe1', 5), 503, 'three non-reading clients hold the three slots: 503';
my $t0 = time;
my $back = 0;
while (time - $t0 < 15) {
    if (ended('slow1') && ended('slow2') && ended('slow3')) { $back = 1; last }
    sleep 0.25;
}
ok $back, sprintf('after Timeout (2 s) their coroutines are cancelled (%.1f s)', time - $t0);
is quick_status('/?id=probe2', 5), 200, 'and their slots are free again: 200';
$_->close for @slow;

# ---- queued clients that leave, behind code that never suspends
my $spin = open_req('/spin?ms=20000&id=spin');
sleep 0.3;
my @queued = map { open_req("/?id=q$_") } 1 .. 2;
sleep 0.3;
is quick_status('/?id=probe3', 5), 503, 'a busy thread with two queued requests is full: 503';
$_->close for @queued;
sleep 0.3;
my $c = open_req('/?id=after');
my $r = $c->read_response(timeout => 1);
ok !$r->{status}, 'once the queued clients left, a new request is queued instead of refused'
    or diag "got status $r->{status}";
$t0 = time;
$spin->close;
$r = $c->read_response(timeout => 10);
is $r->{status}, 200, 'the client of the busy request leaves: its code is interrupted, the queued request runs';
like $r->{body} // '', qr/ok after/, '... and gets its own answer';
cmp_ok time - $t0, '<', 2, sprintf('... promptly (%.2f s, not after the 20 s loop)', time - $t0);
$c->close;
is ended('spin'), 1, 'the interrupted request ran its finally block';
is ended('q1') + ended('q2'), 0, 'the requests whose clients left while queued never ran';
is state()->{boot}, $boot, 'the worker script was not booted again';
