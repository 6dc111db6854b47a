# 43. PHP stream sockets yield inside coroutines: on ONE PHP thread, 20
#     requests each talking to a 200 ms upstream through
#     stream_socket_client, file_get_contents('http://') and fsockopen finish
#     together; a server and its client in coroutines of one thread talk
#     (accept/read yield), over tcp and unix sockets; error paths (refused,
#     read timeout, reset mid-read, accept timeout) give what PHP gives.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use IO::Socket::INET ();
use TATest qw(raw_request parallel json_decode);
use TAUpstream;

plan tests => 60;

my ($port, $pid) = TAUpstream::start();
END { TAUpstream::stop($pid) if $pid }

sub sget {
    my ($path, %o) = @_;
    my $r = raw_request('trueasync_streams', path => $path, timeout => $o{timeout} || 15);
    return ($r->{status} // 0, eval { json_decode($r->{body} // '') } // {});
}

my ($s, $j) = sget('/ping');
is $s, 200, 'worker answers';

for my $kind (qw(client fgc fsockopen)) {
    my $N = 20;
    my $t0 = time;
    my @res = parallel([ map { my $id = $_; sub {
        my ($st, $js) = sget("/$kind?port=$port&id=$id");
        return { status => $st, body => $js->{body} };
    } } 1 .. $N ], 20);
    my $elapsed = time - $t0;
    my $ok = grep { ($_->{status} // 0) == 200 } @res;
    is $ok, $N, "$kind: all $N requests 200";
    my $prefix = { client => 'c', fgc => 'f', fsockopen => 's' }->{$kind};
    is_deeply [ map { $_->{body} } @res ], [ map { "slow:/$prefix$_" } 1 .. $N ],
        "$kind: each request got its own upstream answer";
    ok $elapsed < 2.0, sprintf("$kind: 20 x 200 ms upstream on one thread took %.2f s (sequential: 4 s)", $elapsed);
}

# A host name resolves on the reactor; concurrent requests still overlap.
{
    my $t0 = time;
    my @res = parallel([ map { my $id = $_; sub {
        my ($st, $js) = sget("/client-host?port=$port&id=$id");
        return { status => $st, body => $js->{body} };
    } } 1 .. 10 ], 20);
    is_deeply [ map { $_->{body} } @res ], [ map { "slow:/h$_" } 1 .. 10 ], 'connect by host name (localhost): all answered';
    ok time - $t0 < 1.5, sprintf('and overlapped (%.2f s for 10 x 200 ms)', time - $t0);
}

# Connect timeout: a listener whose backlog is full drops new SYNs, so a
# connect hangs until its timeout (loopback only).
{
    my $full = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 0, Proto => 'tcp')
        or die "listen: $!";
    my $fport = $full->sockport;
    my @fill = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $fport, Blocking => 0) } 1 .. 8;
    my $t0 = time;
    my @res = parallel([ map { sub { my ($st, $js) = sget("/connect-timeout?port=$fport"); return $js } } 1 .. 6 ], 20);
    my $elapsed = time - $t0;
    ok((grep { $_->{failed} } @res) == 6, 'connect timeout: stream_socket_client returns false');
    is_deeply [ map { "$_->{errno} $_->{errstr}" } @res ], [ ('110 Connection timed out') x 6 ],
        'with PHP\'s errno and message for a timed-out connect';
    ok((grep { $_->{ms} >= 450 && $_->{ms} < 2000 } @res) == 6, 'after the 0.5 s connect timeout');
    ok $elapsed < 2.0, sprintf('six 0.5 s connect timeouts on one thread overlapped (%.2f s)', $elapsed);
    close $_ for grep { $_ } @fill;
    close $full;
}

# proc_open pipes and proc_close yield too.
{
    my $t0 = time;
    my @res = parallel([ map { sub { my ($st, $js) = sget('/proc?case=echo'); return $js } } 1 .. 20 ], 20);
    my $elapsed = time - $t0;
    is scalar(grep { ($_->{coroutine}{out} // '') eq "out\n" && ($_->{coroutine}{err} // '') eq "err\n" } @res), 20,
        'proc_open: 20 concurrent commands, each read its own stdout and stderr';
    # Overlap measured in the worker, not a wall-clock bound (a loaded
    # machine stretches process start-up): on one thread, a command that
    # blocked it would leave every request's command interval apart.
    my @iv = map { [ $_->{began} // 0, $_->{ended} // 0 ] } @res;
    my $depth = 0;
    for my $i (@iv) {
        my $n = grep { $_->[0] <= $i->[0] && $i->[0] < $_->[1] } @iv;
        $depth = $n if $n > $depth;
    }
    ok $depth >= 2, sprintf('proc_open: while a command ran, the thread started others (up to %d at once; %.2f s for 20 x sleep 0.2)', $depth, $elapsed);
    for my $case (qw(echo cat exit3 killed)) {
        my ($st, $js) = sget("/proc?case=$case");
        is_deeply $js->{coroutine}, $js->{boot}, "proc_open/proc_close '$case': same output and exit code as PHP outside coroutines"
            or diag explain $js;
    }
}

# stream_select() yields while it waits.
{
    my $t0 = time;
    my @res = parallel([ map { my $id = $_; sub { my ($st, $js) = sget("/select?port=$port&id=$id"); return $js } } 1 .. 10 ], 20);
    my $elapsed = time - $t0;
    is_deeply [ map { $_->{bodies} } @res ], [ map { ["slow:/sa$_", "slow:/sb$_"] } 1 .. 10 ],
        'stream_select: each request read both of its upstream answers';
    ok $elapsed < 1.5, sprintf('stream_select: 10 requests waiting 200 ms each overlapped (%.2f s)', $elapsed);
    is_deeply [ map { $_->{timeout_result} } @res ], [ (0) x 10 ], 'stream_select on a quiet stream times out with 0, as in PHP';
    ok((grep { $_->{timeout_ms} >= 95 && $_->{timeout_ms} < 1000 } @res) == 10, 'after its 100 ms timeout');
}

# TLS: connect and handshake yield (the server starts its handshake 300 ms
# after the connect); file_get_contents('https://...') works in coroutines.
{
    my $t = Apache::Test::vars('t_conf') . '/ssl-gen';
    my ($tport, $tpid) = TAUpstream::start_tls("$t/server.crt", "$t/server.key");
    my $t0 = time;
    my @res = parallel([ map { my $id = $_; sub { my ($st, $js) = sget("/https?port=$tport&path=t$id"); return $js } } 1 .. 10 ], 20);
    my $elapsed = time - $t0;
    $t0 = time;
    my @st = parallel([ map { my $id = $_; sub { my ($st, $js) = sget("/starttls?port=$tport&id=$id"); return $js } } 1 .. 10 ], 20);
    my $st_elapsed = time - $t0;
    TAUpstream::stop($tpid);
    ok((grep { $_->{enabled} } @st) == 10, 'stream_socket_enable_crypto on a connected stream: all 10 succeeded');
    is_deeply [ map { $_->{body} } @st ], [ map { "tls:/st$_" } 1 .. 10 ], 'and each read its own answer over TLS';
    ok $st_elapsed < 2.0, sprintf('10 enable_crypto handshakes held 300 ms each overlapped (%.2f s)', $st_elapsed);
    is scalar(grep { $_->{ok} } @res), 10, 'https: all 10 fetches succeeded' or diag explain \@res;
    is_deeply [ map { $_->{body} } @res ], [ map { "tls:/t$_" } 1 .. 10 ], 'https: each got its own answer';
    ok $elapsed < 2.0, sprintf('https: 10 handshakes each held 300 ms by the server overlapped (%.2f s; one after another: 3 s)', $elapsed);
    my ($hp) = (TATest::hostport('trueasync_tls'))[1];
    my ($st, $js) = sget("/https?port=$hp&path=api/req");
    like $js->{body} // '', qr/"scheme":"https"/, 'https to the suite\'s own TLS virtual host works too';
    ($st, $js) = sget("/tls-verify?port=$hp");
    ok !$js->{connected} && $js->{error} =~ /Unable to connect to ssl:/,
        'peer verification still rejects the self-signed certificate' or diag explain $js;
}

# curl: curl_exec and curl_multi_exec/curl_multi_select yield.
{
    my $t0 = time;
    my @res = parallel([ map { my $id = $_; sub { my ($st, $js) = sget("/curl?port=$port&id=$id"); return $js } } 1 .. 20 ], 20);
    my $elapsed = time - $t0;
    is_deeply [ map { $_->{body} } @res ], [ map { "slow:/u$_" } 1 .. 20 ], 'curl_exec: 20 requests, each its own answer';
    ok((grep { $_->{errno} == 0 && $_->{code} == 200 } @res) == 20, 'curl_errno 0, response code 200');
    ok $elapsed < 1.5, sprintf('curl_exec: 20 x 200 ms on one thread took %.2f s (one after another: 4 s)', $elapsed);
    $t0 = time;
    @res = parallel([ map { my $id = $_; sub { my ($st, $js) = sget("/curl-multi?port=$port&id=$id"); return $js } } 1 .. 10 ], 20);
    $elapsed = time - $t0;
    is_deeply [ map { $_->{bodies} } @res ], [ map { ["slow:/m${_}a", "slow:/m${_}b"] } 1 .. 10 ], 'curl_multi: each request got both answers';
    ok $elapsed < 1.5, sprintf('curl_multi_select: 10 requests overlapped (%.2f s)', $elapsed);
    my ($st, $js) = sget("/curl-timeout?port=$port");
    ok !$js->{body} && $js->{errno} == 28, 'CURLOPT_TIMEOUT_MS: curl_exec fails with CURLE_OPERATION_TIMEDOUT (28)';
    ok $js->{ms} >= 190 && $js->{ms} < 1500, sprintf('after the 200 ms timeout (%.1f ms)', $js->{ms} // -1);
    ($st, $js) = sget('/curl-refused');
    is_deeply $js->{coroutine}, $js->{boot}, 'curl to a refused port: same result as PHP outside coroutines' or diag explain $js;
}

($s, $j) = sget('/refused');
ok $j->{coroutine}[0], 'connection refused: stream_socket_client returns false';
is_deeply $j->{coroutine}, $j->{boot}, 'same errno and message as PHP outside coroutines';

($s, $j) = sget("/read-timeout?port=$port");
ok !$j->{read}, 'read timeout: fread gives false like PHP';
ok $j->{timed_out}, 'stream_get_meta_data reports timed_out';
ok $j->{ms} >= 90 && $j->{ms} < 1000, sprintf('after the stream timeout (%.1f ms)', $j->{ms} // -1);

($s, $j) = sget("/reset?port=$port");
like $j->{got}, qr/partial$/, 'peer reset mid-read: the bytes before the reset arrive';
ok $j->{eof}, 'then the stream is at EOF';

($s, $j) = sget('/server');
is $j->{server_got}, "ping\n", 'tcp server coroutine accepted and read from a client coroutine';
is $j->{client_got}, "pong:ping\n", 'and the client coroutine read the reply';

($s, $j) = sget('/accept-timeout');
ok !$j->{accepted}, 'stream_socket_accept with nobody connecting times out';
ok $j->{ms} >= 190 && $j->{ms} < 1500, sprintf('after its timeout (%.1f ms)', $j->{ms} // -1);

($s, $j) = sget('/unix');
is $j->{server_got}, "over unix\n", 'unix socket server coroutine read from its client';
is $j->{client_got}, "OVER UNIX\n", 'and the client got the reply';

($s, $j) = sget('/duplex');
is_deeply $j, { read => 'pong', written => 4 << 20, peer_got => 4 << 20 },
    'one coroutine reads a socket while another writes 4 MiB to it: both waits on one descriptor work' or diag explain $j;

# Coroutines leave a blocking socket's descriptor non-blocking between
# reads (no fcntl per read); whatever else touches it, here a child process
# given it as stdin, finds the mode PHP set.
($s, $j) = sget('/fd-mode');
is $j->{coroutine}{child_blocking}, 'blocking', 'a blocking socket read in a coroutine reaches a child process blocking';
is $j->{coroutine}{child_nonblocking}, 'nonblocking', 'a non-blocking one reaches it non-blocking';
is_deeply $j->{coroutine}, $j->{boot}, 'reads, modes and metadata as PHP gives them outside coroutines' or diag explain $j;

# The other requests of the thread were never held up: a ping during a
# slow upstream call answers at once.
my @r = parallel([ sub { my ($st) = sget("/client?port=$port&id=x"); return { s => $st } },
                   sub { select undef, undef, undef, 0.05; my $t = time; my ($st) = sget('/ping');
                         return { s => $st, t => time - $t } } ], 10);
ok $r[1]{t} < 0.15, sprintf('a ping during a slow upstream call answered in %.3f s', $r[1]{t} // -1);
