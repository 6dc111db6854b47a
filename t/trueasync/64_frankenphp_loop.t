# FrankenPHP's worker API (issue 10): an unmodified worker script with a
# frankenphp_handle_request() loop. Its handler sees its request in the
# superglobals; the loop body runs between requests; requests still run
# as coroutines, many at once on one thread; leaving the loop reboots the
# script with nothing lost.
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

my $t0 = Time::HiRes::time();
my @res = parallel([map { my $i = $_; sub { my $x = raw_request($V, path => "/?ms=300&name=p$i");
                                             { s => $x->{status}, b => $x->{body} } } } 1 .. 15], 30);
my $took = Time::HiRes::time() - $t0;
is scalar(grep { $_->{s} == 200 && $_->{b} =~ /^hello p\d+ / } @res), 15, '15 requests waiting 300 ms each all answered';
is scalar(grep { my $i = $_; $res[$i - 1]{b} =~ /^hello p$i / } 1 .. 15), 15, 'each with its own $_GET';
cmp_ok $took, '<', 2.5, sprintf('at once on one thread (%.2f s, one after the other would take 4.5 s)', $took);

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
