# FrankenPHP's worker API (issue 10): an unmodified worker script with a
# frankenphp_handle_request() loop. Its handler sees its request in the
# superglobals; the loop body runs between requests; FrankenPHP's contract
# holds (issue 18): one request at a time in the handler per thread, the
# others wait in the queue, not 503, while the handler's own coroutines
# still run at once; TrueAsyncMaxConcurrency lets the admin allow more;
# leaving the loop reboots the script with nothing lost.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel json_decode);
use Time::HiRes ();

my $V = 'trueasync_fploop';
my $r = raw_request($V, path => '/?name=ann');
is $r->{status}, 200, 'a request through frankenphp_handle_request()';
like $r->{body}, qr/^hello ann loops=\d+$/, 'the handler sees $_GET and echoes';
is TATest::Conn::hdr($r, 'Content-Type'), 'text/plain;charset=UTF-8', 'header() reaches the response (with default_charset, as PHP adds it)';
my $boot = TATest::Conn::hdr($r, 'X-Boot');
my ($l1) = $r->{body} =~ /loops=(\d+)/;
my ($l2) = raw_request($V, path => '/?name=bob')->{body} =~ /loops=(\d+)/;
cmp_ok $l2, '>', $l1, 'the loop body ran between two requests';

raw_request($V, path => '/?most=1');     # resets the high-water mark
my $t0 = Time::HiRes::time();
my @res = parallel([map { my $i = $_; sub { my $x = raw_request($V, path => "/?ms=100&name=p$i");
                                             { s => $x->{status}, b => $x->{body} } } } 1 .. 15], 30);
my $took = Time::HiRes::time() - $t0;
is scalar(grep { $_->{s} == 200 && $_->{b} =~ /^hello p\d+ / } @res), 15,
    '15 requests at once on a one-thread loop worker: all answered (they waited in the queue, no 503)';
is scalar(grep { my $i = $_; $res[$i - 1]{b} =~ /^hello p$i / } 1 .. 15), 15, 'each with its own $_GET';
is raw_request($V, path => '/?most=1')->{body}, '1', 'never more than one request inside the handler at once';
cmp_ok $took, '>=', 1.4, sprintf('so they ran one after another (%.2f s for 15 x 100 ms)', $took);
my @who = parallel([map { my $i = $_; sub { raw_request($V, path => "/?user=u$i")->{body} } } 1 .. 20], 30);
is scalar(grep { ($who[$_ - 1] // '') eq "you are u$_" } 1 .. 20), 20,
    'a service holding the current user across a wait: each of 20 concurrent users is told who they are';
my $sp = raw_request($V, path => '/?spawn=1')->{body} // '';
my ($order, $spent) = $sp =~ /^([\d,]+) ([\d.]+)$/;
is $order, '0,1,2', 'inside its request the handler spawns coroutines and awaits them';
cmp_ok $spent // 9, '<', 0.5, "and they wait at once (3 x 200 ms took ${\($spent // '?')} s)";

# FrankenPHP keeps a loop's session set-up: a handler and session.name set
# by one request serve the next (as Symfony configures its session once)
my $s1 = raw_request($V, path => '/?sess=setup');
my ($cookie) = map { /^(LOOPSESS=[^;]+)/ ? $1 : () } TATest::Conn::hdr($s1, 'Set-Cookie');
my $j1 = json_decode($s1->{body} // '{}');
is_deeply [$j1->{name}, $j1->{n}], ['LOOPSESS', 1], 'a loop request sets up its session: its name, a first count';
ok $cookie, '... and its cookie carries that name';
my $j2 = json_decode(raw_request($V, path => '/?sess=use', headers => [Cookie => $cookie // ''])->{body} // '{}');
is_deeply [$j2->{name}, $j2->{n}], ['LOOPSESS', 2], 'the next request, which sets up nothing, still has that name and the session' or diag explain $j2;
cmp_ok $j2->{writes} // 0, '>', $j1->{writes} // 0, '... written through the handler the first request registered';

# TrueAsyncMaxConcurrency 4: the admin's choice, for a loop whose services are safe
my $V4 = 'trueasync_fploop4';
raw_request($V4, path => '/?most=1');
@res = parallel([map { my $i = $_; sub { raw_request($V4, path => "/?ms=300&name=q$i")->{body} } } 1 .. 12], 30);
is scalar(grep { ($res[$_ - 1] // '') =~ /^hello q$_ / } 1 .. 12), 12, 'MaxConcurrency 4: 12 requests each answered';
is raw_request($V4, path => '/?most=1')->{body}, '4', 'MaxConcurrency 4: exactly 4 inside the handler at once, at most';

my $f = raw_request($V, path => '/?finish=1');
is $f->{body}, 'sent;', 'frankenphp_finish_request() ends the response; later output does not reach it';
my $h = json_decode(raw_request($V, path => '/?headers=1', headers => ['X-Mine' => 'm'])->{body});
is_deeply $h, { request => 'm', response => '1' }, 'frankenphp_request_headers() and frankenphp_response_headers()';

# the script leaves its loop after 40 requests: booted again, nothing lost
my @boots;
my $bad = 0;
for (1 .. 60) {
    my $x = raw_request($V, path => '/?name=z');
    $bad++ unless $x->{status} == 200;
    push @boots, TATest::Conn::hdr($x, 'X-Boot') // '';
}
is $bad, 0, '60 more requests across the script leaving its loop: all 200';
my %seen = map { $_ => 1 } @boots;
cmp_ok scalar(keys %seen), '>=', 2, 'the script was booted again after leaving its loop';
done_testing();
