# 97. The server side of a TLS handshake waits on the reactor: on ONE PHP
#     thread, a request accepting on an ssl:// server (and one accepting on
#     tcp:// and calling stream_socket_enable_crypto() in server mode) waits
#     for a client that connects and stays silent for 1 s, then for one that
#     sends its ClientHello a byte at a time, while the other requests of
#     the thread are answered at once. The real handshake completes and a
#     line goes both ways; a plain-text client, the handshake timeout (the
#     server socket's, 2 s, over the whole handshake) and the accept timeout
#     give PHP's results and warnings: Debian's PHP CLI runs the same
#     scenario (t/php/tls_accept.php) against the same client. The client
#     side's handshake (ssl:// connect) keeps to its connect timeout over
#     the whole handshake too; a server and its client in coroutines of one
#     request take turns; a coroutine cancelled in the handshake ends at once.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use List::Util qw(max);
use File::Temp ();
use File::Copy ();
use IO::Socket::INET ();
use IO::Select ();
use IO::Socket::SSL qw(SSL_VERIFY_NONE);
use TATest qw(raw_request parallel json_decode top_dir);

my $cli = '/usr/bin/php8.2';
-x $cli or die "$cli missing (Debian package php8.2-cli)";

plan tests => 2 * 9 + 4 + 2 * 3;

# The suite's certificate, its key readable by the worker's user too.
my $gen = Apache::Test::vars('t_conf') . '/ssl-gen';
my $dir = File::Temp::tempdir('ta-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my ($crt, $key) = ("$dir/server.crt", "$dir/server.key");
for (['server.crt', $crt], ['server.key', $key]) {
    File::Copy::copy("$gen/$_->[0]", $_->[1]) or die "copy $_->[0]: $!";
    chmod 0644, $_->[1];
}
my $script = top_dir() . '/t/php/tls_accept.php';

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1, ReuseAddr => 1)
        or die "listen: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub connect_to {
    my ($port) = @_;
    for (1 .. 200) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
        return $c if $c;
        sleep 0.05;
    }
    die "nothing listens on port $port";
}

# Seconds until the peer closes (whatever it sends first is read and
# dropped), or undef if it is still open after $secs.
sub closed_within {
    my ($c, $secs) = @_;
    my $sel = IO::Select->new($c);
    my ($t0, $deadline) = (time, time + $secs);
    while ((my $left = $deadline - time) > 0) {
        next unless $sel->can_read($left);
        my $n = sysread($c, my $buf, 4096);
        return time - $t0 if !$n;
    }
    return undef;
}

# The client's half of the steps of tls_accept.php, in their order.
sub client_side {
    my ($port) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my %d;
    my $c = connect_to($port);
    sleep 1;                                    # connected, silent
    if (IO::Socket::SSL->start_SSL($c, SSL_verify_mode => SSL_VERIFY_NONE, Timeout => 10)) {
        print $c "hello\n";
        $d{reply} = scalar <$c>;
        $c->close(SSL_fast_shutdown => 1);
    } else {
        $d{tls_error} = "$IO::Socket::SSL::SSL_ERROR";
    }
    $c = connect_to($port);
    syswrite $c, "GET / HTTP/1.0\r\n\r\n";
    $d{plaintext_closed} = defined closed_within($c, 10) ? 1 : 0;
    close $c;
    # A record header announcing 512 bytes, then one byte each 0.25 s:
    # the ClientHello never completes, yet data keeps arriving.
    $c = connect_to($port);
    my $t0 = time;
    for my $byte ("\x16", "\x03", "\x01", "\x02", "\x00", ("\0") x 30) {
        syswrite $c, $byte;
        last if defined closed_within($c, 0.25);
    }
    $d{trickle_closed} = time - $t0 < 7 ? 1 : 0;
    close $c;
    return \%d;
}

# Pings the worker's thread while the handshakes wait: the slowest answer.
sub pings {
    my ($secs) = @_;
    my @lat;
    sleep 0.3;
    my $end = time + $secs;
    while (time < $end) {
        my $t = time;
        my $r = raw_request('trueasync_tlsaccept', path => '/ping', timeout => 10);
        push @lat, ($r->{status} // 0) == 200 ? time - $t : 99;
        sleep 0.1;
    }
    return { n => scalar @lat, max => max(@lat) // 99 };
}

sub uri_escape { my $s = shift; $s =~ s/([^A-Za-z0-9._~\/-])/sprintf '%%%02X', ord $1/ge; $s }

sub without_ms { my $s = shift; return { map { my %r = %{ $s->{$_} }; delete $r{ms}; ($_ => \%r) } keys %$s } }

# PHP's own results: the CLI runs the scenario against the same peer.
sub cli_run {
    my ($args, $peer) = @_;
    open(my $fh, '-|', $cli, $script, @$args) or die "$cli: $!";
    my $seen = $peer->();
    my $res = do { local $/; eval { json_decode(scalar <$fh>) } // {} };
    close $fh;
    return ($res, $seen);
}

for my $mode (qw(accept enable)) {
    my $port = free_port();
    my $q = "mode=$mode&port=$port&crt=" . uri_escape($crt) . '&key=' . uri_escape($key);
    my ($srv, $cl, $pg) = parallel([
        sub { my $r = raw_request('trueasync_tlsaccept', path => "/server?$q", timeout => 30);
              eval { json_decode($r->{body} // '') } // { status => $r->{status}, body => $r->{body} } },
        sub { client_side($port) },
        sub { pings(3) },
    ], 40);

    my $cport = free_port();
    my ($cli_srv, $cli_client) = cli_run([$mode, $cport, $crt, $key], sub { client_side($cport) });

    my $s = $srv->{silent_then_tls} // {};
    ok $s->{tls} && ($s->{got} // '') eq "hello\n" && ($cl->{reply} // '') eq "echo:hello\n",
        "$mode: a client silent for 1 s, then a real handshake: a line each way over TLS" or diag explain [$srv, $cl];
    ok(($s->{ms} // 0) >= 900, "$mode: the handshake waited for the silent client ($s->{ms} ms)");
    my $p = $srv->{plaintext} // {};
    ok(($mode eq 'accept' ? !$p->{accepted} : $p->{accepted} && defined $p->{enable} && !$p->{enable})
       && grep(/SSL/, @{ $p->{warnings} // [] }), "$mode: a plain-text client fails the handshake with OpenSSL's warning")
        or diag explain $p;
    my $t = $srv->{trickle} // {};
    ok grep(/Handshake timed out/, @{ $t->{warnings} // [] }), "$mode: a ClientHello trickled a byte at a time times out"
        or diag explain $t;
    ok(($t->{ms} // 0) >= 1900 && ($t->{ms} // 0) < 3500,
       "$mode: after the socket's 2 s timeout over the whole handshake ($t->{ms} ms)");
    my $n = $srv->{nobody} // {};
    ok !$n->{accepted} && ($n->{ms} // 0) >= 450 && ($n->{ms} // 0) < 2000,
        "$mode: nobody connecting: the 0.5 s accept timeout ($n->{ms} ms)" or diag explain $n;
    is_deeply without_ms($srv), without_ms($cli_srv), "$mode: results and warnings as PHP's CLI gives them"
        or diag explain [$srv, $cli_srv];
    is_deeply $cl, $cli_client, "$mode: the client saw what PHP's CLI server gave it";
    ok $pg->{n} >= 5 && $pg->{max} < 0.5,
        sprintf('%s: the other requests of the thread answered meanwhile (%d pings, slowest %.3f s)', $mode, $pg->{n} // 0, $pg->{max} // 99);
}

# The client side: a peer that never answers the ClientHello, then one
# that sends its answer a byte at a time.
sub peer_side {
    my ($listen) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my %d;
    my $c = $listen->accept;
    $d{silent_closed} = defined closed_within($c, 10) ? 1 : 0;
    close $c;
    $c = $listen->accept;
    my $t0 = time;
    for my $byte ("\x16", "\x03", "\x03", "\x02", "\x00", ("\0") x 30) {
        syswrite $c, $byte;
        last if defined closed_within($c, 0.25);
    }
    $d{trickle_closed} = time - $t0 < 7 ? 1 : 0;
    close $c;
    return \%d;
}

sub listener { IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 8, ReuseAddr => 1) or die "listen: $!" }

{
    my $l = listener();
    my $lport = $l->sockport;
    my ($cl, $peer, $pg) = parallel([
        sub { my $r = raw_request('trueasync_tlsaccept', path => "/client?port=$lport", timeout => 30);
              eval { json_decode($r->{body} // '') } // { status => $r->{status}, body => $r->{body} } },
        sub { peer_side($l) },
        sub { pings(2) },
    ], 40);
    close $l;
    $l = listener();
    my ($cli_cl, $cli_peer) = cli_run(['client', $l->sockport], sub { peer_side($l) });
    close $l;
    my ($si, $tr) = ($cl->{silent} // {}, $cl->{trickle} // {});
    ok !$si->{connected} && ($si->{ms} // 0) >= 950 && ($si->{ms} // 0) < 2500,
        "ssl:// connect to a silent peer: fails after the 1 s connect timeout ($si->{ms} ms)" or diag explain $cl;
    ok !$tr->{connected} && ($tr->{ms} // 0) >= 950 && ($tr->{ms} // 0) < 2500,
        "a peer answering a byte at a time: the same 1 s over the whole handshake ($tr->{ms} ms)" or diag explain $cl;
    is_deeply [without_ms($cl), $peer], [without_ms($cli_cl), $cli_peer],
        'results, warnings and what the peer saw as with PHP\'s CLI' or diag explain [$cl, $cli_cl];
    ok $pg->{n} >= 3 && $pg->{max} < 0.5,
        sprintf('the other requests of the thread answered meanwhile (%d pings, slowest %.3f s)', $pg->{n} // 0, $pg->{max} // 99);
}

for my $mode (qw(accept enable)) {
    my $q = "mode=$mode&crt=" . uri_escape($crt) . '&key=' . uri_escape($key);
    my $r = raw_request('trueasync_tlsaccept', path => "/pair?$q", timeout => 20);
    my $j = eval { json_decode($r->{body} // '') } // {};
    ok $j->{tls} && ($j->{got} // '') eq "ping\n" && ($j->{client_got} // '') eq "echo:ping\n",
        "$mode: server and client in coroutines of one request: both handshakes, a line each way"
        or diag explain [$r->{status}, $j];
    $r = raw_request('trueasync_tlsaccept', path => "/cancel?$q", timeout => 20);
    $j = eval { json_decode($r->{body} // '') } // {};
    ok $j->{cancelled} && ($j->{ms} // 99999) < 500 && $j->{peer_eof} && ($j->{peer_read} // 'x') eq '',
        "$mode: a coroutine cancelled in the handshake ends at once ($j->{ms} ms) and the client's socket is closed"
        or diag explain [$r->{status}, $j];
    my $n = $j->{next} // {};
    ok $n->{tls} && ($n->{client_got} // '') eq "echo:ping\n", "$mode: the server then serves the next client"
        or diag explain $j;
}
