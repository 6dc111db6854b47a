# stream_socket_recvfrom() and stream_socket_sendto() yield inside a
# coroutine (issue 11, defect 4): on ONE PHP thread a handler waits in
# recvfrom() for data its own sibling coroutine sends 300 ms later (UDP and
# TCP), and another request on that thread is answered meanwhile.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel json_decode);
use Time::HiRes qw(time sleep);

plan tests => 2 * 4;

for my $proto (qw(udp tcp)) {
    my @res = parallel([
        sub { my $r = raw_request('trueasync_isolation', path => "/recvfrom?proto=$proto", timeout => 10);
              { s => $r->{status}, b => $r->{body} } },
        sub { sleep 0.1; my $t = time;
              my $r = raw_request('trueasync_isolation', path => '/wait?ms=1', timeout => 10);
              { s => $r->{status}, t => time - $t } },
    ], 15);
    my $o = json_decode($res[0]{b} // '{}');
    is $o->{data}, "ping-$proto", "$proto: recvfrom() got what the sibling coroutine sent";
    ok $o->{peer_is_sender} && $o->{sent} == length("ping-$proto"), "$proto: sendto() sent it all, the peer address is the sender's";
    cmp_ok $o->{ms} // 0, '>=', 290, "$proto: after the sender's 300 ms";
    ok $res[1]{s} == 200 && $res[1]{t} < 0.2,
        sprintf('%s: another request on the same thread was answered meanwhile (%.3f s)', $proto, $res[1]{t} // -1);
}
