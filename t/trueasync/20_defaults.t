# Defaults: a vhost that sets only TrueAsyncWorker gets 2 PHP threads x 20
# buffer slots: 40 requests are held at once, the 41st is answered 503 by
# Apache (with the main server's Retry-After, 7), and the 40 come from two
# distinct PHP threads.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request);

plan tests => 7;

my $V = 'trueasync_defaults';
my $r = raw_request($V, path => '/?id=warm');
is $r->{status}, 200, 'defaults vhost answers';

my @held;
for my $i (1 .. 40) {
    my $c = TATest::Conn->new($V);
    $c->send_request(path => "/hold?id=h$i&ms=2000");
    push @held, $c;
}
sleep 0.5;
my $t0 = time;
my $extra = raw_request($V, path => '/?id=extra', timeout => 10);
my $dt = time - $t0;
is $extra->{status}, 503, '41st concurrent request -> 503 (2 threads x 20 slots full)';
ok $dt < 0.5, sprintf('... answered at once (%.3f s)', $dt);
is TATest::Conn::hdr($extra, 'Retry-After'), '7', '... Retry-After inherited from the main server';

my (%threads, $ok);
for my $i (1 .. 40) {
    my $res = $held[$i-1]->read_response(timeout => 10);
    $held[$i-1]->close;
    if (($res->{status} // 0) == 200 && ($res->{body} // '') =~ /^id=h$i thread=(\w+)/) {
        $ok++;
        $threads{$1}++;
    }
}
is $ok, 40, 'all 40 held requests -> 200 with their own body';
is scalar(keys %threads), 2, 'they were served by 2 PHP threads (default TrueAsyncThreads)'
    or diag explain \%threads;

$r = raw_request($V, path => '/?id=after');
is $r->{status}, 200, 'request after the burst -> 200';
