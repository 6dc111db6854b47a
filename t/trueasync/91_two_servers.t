# 91. More than one server (issue 21): two Apache servers with the module
#     (private ones, 2 PHP threads each) behind a third Apache with
#     mod_proxy_balancer (byrequests, no stickiness, the configuration of
#     docs/operations.md), sessions in one Redis (session.save_handler = redis
#     through TrueAsyncPHPIni). One client's session goes on across both
#     backends; three clients of one session at once take turns through
#     phpredis' session lock (no update lost). Three clients keep sending while backend b gets
#     -k graceful-stop: every response is 200, no session counter skips or
#     repeats, the requests b held complete, and the balancer sends the
#     rest to a (a refused connection puts the member in error and the
#     request is tried on the next one). b comes back after the retry
#     time; then a is disabled in the balancer-manager before its
#     graceful-stop, and no request meets it stopping.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(parallel top_dir json_decode);
use TAServer;
use TARedis;

plan tests => 3 + 5 + 2 + 11 + 10;

my $rport = TARedis::start();
END { TARedis::stop() }
my $worker = top_dir() . '/t/php/two_servers.php';

sub backend {
    my $name = shift;
    return TAServer->new(modules => ['env'], body => <<"CONF");
KeepAlive On
SetEnv TA_BACKEND $name
TrueAsyncWorker $worker
TrueAsyncThreads 2
TrueAsyncPHPIni session.save_handler redis
TrueAsyncPHPIni session.save_path tcp://127.0.0.1:$rport
TrueAsyncPHPIni redis.session.locking_enabled 1
TrueAsyncPHPIni redis.session.lock_expire 10
TrueAsyncPHPIni redis.session.lock_retries 2500
<Location />
    SetHandler trueasync-worker
</Location>
CONF
}
my %be = (a => backend('a'), b => backend('b'));
ok $be{a}->start, 'backend a starts';
ok $be{b}->start, 'backend b starts';

# The front: docs/operations.md's configuration ("Running on several servers").
my ($pa, $pb) = ($be{a}->port, $be{b}->port);
my $front = TAServer->new(trueasync => 0,
    modules => [qw(proxy proxy_http proxy_balancer slotmem_shm lbmethod_byrequests authz_host)], body => <<"CONF");
<Proxy "balancer://php">
    BalancerMember "http://127.0.0.1:$pa" retry=5 disablereuse=On
    BalancerMember "http://127.0.0.1:$pb" retry=5 disablereuse=On
    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass "/balancer-manager" "!"
ProxyPass "/" "balancer://php/"
ProxyPassReverse "/" "balancer://php/"
<Location "/balancer-manager">
    SetHandler balancer-manager
    Require ip 127.0.0.1
</Location>
CONF
ok $front->start, 'the balancer starts';

# One request; the session cookie is sent when there is one and kept from
# the first answer. Returns what the client saw.
sub count {
    my ($srv, $cookie, $ms) = @_;
    my $sent = time;
    my $r = $srv->get("/count?ms=" . ($ms // 0), 20, $$cookie ? [Cookie => $$cookie] : []);
    my $j = eval { json_decode($r->{body}) } // {};
    ($$cookie) = ($r->{head} // '') =~ /^Set-Cookie:\s*(PHPSESSID=[^;\r\n]+)/mi unless $$cookie;
    return { status => $r->{status}, complete => $r->{complete}, error => $r->{error},
             sent => $sent, got => time, %$j{qw(backend sid n handler start end)} };
}
# The clients' runs: every response 200, each client's counter 1, 2, 3, ...
# Returns every response.
sub check_run {
    my ($res, $what) = @_;
    my @all = map { @{ $_->{r} || [] } } @$res;
    my @bad = grep { $_->{status} != 200 || !$_->{complete} } @all;
    ok @all > 60 && !@bad, scalar(@all) . " requests through the balancer $what, every one 200"
        or diag explain [scalar(@all), @bad[0 .. ($#bad < 4 ? $#bad : 4)]];
    my @gaps = grep { my $r = $_->{r} || [];
                      join(',', map { $_->{n} // '-' } @$r) ne join(',', 1 .. @$r)
                      || grep({ ($_->{sid} // '') ne ($r->[0]{sid} // '') } @$r) } @$res;
    ok !@gaps, '... each client\'s session counter went 1, 2, 3, ... with no gap or repeat'
        or diag explain [map { join ' ', map { ($_->{backend} // '?') . ':' . ($_->{n} // '-') } @{ $_->{r} } } @gaps];
    is_deeply [map { redis_n($_->{r}[0]{sid}) } @$res], [map { scalar @{ $_->{r} } } @$res],
        '... and Redis holds each one\'s last count';
    return @all;
}
sub sleep_until { my $d = shift() - time; sleep $d if $d > 0 }
sub redis_n {
    my $sid = shift // '';
    my ($n) = `redis-cli -p $rport GET PHPREDIS_SESSION:$sid` =~ /\bn\|i:(\d+);/;
    return $n // -1;
}

# ---- one client, one request after another
my $cookie;
my @seq = map { count($front, \$cookie) } 1 .. 10;
is scalar(grep { $_->{status} == 200 && $_->{complete} } @seq), 10, 'ten requests through the balancer: 200'
    or diag explain \@seq;
is $seq[0]{handler}, 'redis', 'session.save_handler = redis from TrueAsyncPHPIni';
my %seen = map { ($_->{backend} // '?') => 1 } @seq;
is_deeply [sort keys %seen], ['a', 'b'], 'both backends served them (no stickiness)' or diag explain \@seq;
is_deeply [map { $_->{n} } @seq], [1 .. 10], '... and the session counter went on from one to the other'
    or diag explain [map { "$_->{backend}:" . ($_->{n} // '-') } @seq];
is redis_n($seq[0]{sid}), 10, 'Redis holds the session (n = 10)';

# ---- one session, three clients at once: phpredis' session lock makes
#      the requests on the two servers take turns (no update lost)
my $shared;
my $first = count($front, \$shared);
my @turns = parallel([ map { sub { my $c = $shared; [ map { count($front, \$c, 40) } 1 .. 8 ] } } 1 .. 3 ], 60);
my @t = map { @$_ } grep { ref $_ eq 'ARRAY' } @turns;
my %by = map { ($_->{backend} // '?') => 1 } @t;
is scalar(grep { $_->{status} == 200 && ($_->{sid} // '') eq ($first->{sid} // '-') } @t), 24,
    '24 requests of one session from three clients at once: 200' or diag explain \@turns;
is_deeply [sort { $a <=> $b } map { $_->{n} // 0 } @t], [2 .. 25],
    '... on both backends (' . join(', ', sort keys %by) . '), each saw its own count: none lost'
    or diag explain [map { ($_->{backend} // '?') . ':' . ($_->{n} // '-') } @t];

# ---- three clients keep sending; backend b gets -k graceful-stop mid-run
my $t0 = time + 0.5;
my ($stop_at, $until) = ($t0 + 1.5, $t0 + 7.5);   # httpd takes ~3 s to go
my $client = sub {
    my $c;
    sleep_until($t0);
    my @r;
    push @r, count($front, \$c, 20) while time < $until;
    return { cookie => $c, r => \@r };
};
my @jobs = (($client) x 3,
    sub { sleep_until($stop_at - 0.3); my $c; count($be{b}, \$c, 1500) },   # held by b when it stops
    sub {
        sleep_until($stop_at);
        my $pid = $be{b}->parent_pid;   # its pid file goes at once
        my $at = time;
        my $ok = $be{b}->ctl('graceful-stop');
        my $gone;
        for (1 .. 200) { last if $gone = !kill 0, $pid; sleep 0.1 }
        return { ok => $ok, at => $at, gone => $gone, gone_at => time };
    });
my @res = parallel(\@jobs, 30);
my ($stop, $held) = (pop @res, pop @res);
ok $stop->{ok}, 'httpd -k graceful-stop ran on backend b';
ok $stop->{gone}, sprintf('backend b is gone %.1f s later', ($stop->{gone_at} // 0) - ($stop->{at} // 0));
ok $held->{status} == 200 && ($held->{backend} // '') eq 'b' && $held->{got} > $stop->{at},
    'the request b held when it was told to stop completed (200)' or diag explain $held;

my @all = check_run(\@res, 'during the run');
my $held_b = grep { ($_->{backend} // '') eq 'b' && $_->{sent} < $stop->{at} && $_->{got} > $stop->{at} } @all;
my @before = grep { $_->{got} < $stop->{at} } @all;
my %before = map { ($_->{backend} // '?') => 1 } @before;
ok $before{a} && $before{b}, 'before the stop both backends served the clients';
ok scalar(grep { ($_->{backend} // '') eq 'b' && $_->{sent} > $stop->{at} - 1 } @before) > 0,
    "... b until the last second before it (the stop came mid-run; $held_b of the clients' requests were in b then)";
my @after = grep { $_->{sent} > $stop->{gone_at} } @all;
ok @after > 10 && !grep({ ($_->{backend} // '') ne 'a' } @after),
    scalar(@after) . ' requests after b was gone, all served by a' or diag explain [@after[0 .. 2]];
like $front->log_text, qr/AH01114|AH00957/, 'the balancer met the stopped member (connection refused) and went on';
unlike $be{b}->log_text, qr/exit signal/, 'backend b\'s child ended without a signal';

# ---- b comes back; then a is taken out without meeting a single request:
#      disabled in the balancer-manager first, then graceful-stop
my $mark = length $front->log_text;
ok $be{b}->start, 'backend b starts again';
my @back;
for (1 .. 60) { push @back, count($front, \$cookie); last if ($back[-1]{backend} // '') eq 'b'; sleep 0.25 }
ok +(($back[-1]{backend} // '') eq 'b' && !grep { $_->{status} != 200 } @back),
    'after its retry time the balancer sends to b again' or diag explain \@back;
is_deeply [map { $_->{n} } @back], [11 .. 10 + @back], '... the first client\'s session still going on';

my $ua = TATest::ua();
my $mgr = 'http://127.0.0.1:' . $front->port . '/balancer-manager';
my ($nonce) = ($ua->get($mgr)->decoded_content // '') =~ /nonce=([0-9a-f-]+)/;
ok $nonce, 'the balancer-manager gives its nonce';
$t0 = time + 0.3;
$until = $t0 + 4;
@jobs = (($client) x 3, sub {
    sleep_until($t0 + 1);
    my $off_at = time;
    my $r = $ua->post($mgr, { b => 'php', w => "http://127.0.0.1:$pa", nonce => $nonce, w_status_D => 1 },
                      Referer => 'http://127.0.0.1/balancer-manager');
    sleep_until($t0 + 1.5);
    return { code => $r->code, off_at => $off_at, ok => $be{a}->ctl('graceful-stop') };
});
@res = parallel(\@jobs, 30);
my $off = pop @res;
ok $off->{code} == 200 && $off->{ok}, 'a disabled in the balancer-manager, then httpd -k graceful-stop on it'
    or diag explain $off;
@all = check_run(\@res, 'meanwhile');
my @to_a = grep { ($_->{backend} // '') eq 'a' && $_->{sent} > $off->{off_at} + 0.1 } @all;
ok scalar(grep { ($_->{backend} // '') eq 'a' && $_->{got} < $off->{off_at} } @all) > 0 && !@to_a,
    'a served the clients until it was disabled, then nothing more' or diag explain \@to_a;
unlike substr($front->log_text, $mark), qr/AH00957: http: attempt to connect to 127\.0\.0\.1:$pa/,
    'the balancer never tried the stopping a';
