package TAUpstream;
# A slow local HTTP upstream for the tests, in a forked process:
#   GET /hang   reads the request, then answers nothing for 3 s
#   GET /reset  sends a partial response, then resets the connection
#   GET /other  answers "slow:/other" after 200 ms
# start() returns (port, pid); stop(pid) ends it.
use strict;
use warnings;
use IO::Socket::INET ();
use Socket qw(SOL_SOCKET SO_LINGER);
use POSIX ();
use Time::HiRes qw(sleep);

sub start {
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 256,
                                       ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
    my $port = $listen->sockport;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid) { close $listen; return ($port, $pid); }
    $SIG{CHLD} = 'IGNORE';
    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 120;    # never outlives the test run
    while (my $c = $listen->accept) {
        my $kid = fork;
        if (!defined $kid) { close $c; next; }
        if ($kid) { close $c; next; }
        close $listen;
        my $req = '';
        while ($req !~ /\r\n\r\n/) { my $n = sysread($c, my $buf, 4096); last unless $n; $req .= $buf; }
        my ($path) = $req =~ m{^GET (\S+)};
        $path //= '/';
        if ($path eq '/hang') { sleep 3; POSIX::_exit(0); }
        if ($path eq '/reset') {
            syswrite $c, "HTTP/1.0 200 OK\r\n\r\npartial";
            sleep 0.1;
            setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
            POSIX::_exit(0);
        }
        sleep 0.2;
        my $body = "slow:$path";
        syswrite $c, "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}

# A TLS upstream whose handshake starts 300 ms after the TCP connect, then
# answers "tls:/path". Uses the suite's throwaway certificate.
sub start_tls {
    my ($cert, $key) = @_;
    require IO::Socket::SSL;
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 256,
                                       ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
    my $port = $listen->sockport;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid) { close $listen; return ($port, $pid); }
    $SIG{CHLD} = 'IGNORE';
    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    alarm 120;
    while (my $c = $listen->accept) {
        my $kid = fork;
        if (!defined $kid) { close $c; next; }
        if ($kid) { close $c; next; }
        close $listen;
        sleep 0.3;
        IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_cert_file => $cert, SSL_key_file => $key)
            or POSIX::_exit(1);
        my $req = '';
        while ($req !~ /\r\n\r\n/) { my $n = sysread($c, my $buf, 4096); last unless $n; $req .= $buf; }
        my ($path) = $req =~ m{^GET (\S+)};
        my $body = 'tls:' . ($path // '/');
        print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
        $c->close(SSL_fast_shutdown => 1);
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}

sub stop { local $?; my $pid = shift; kill 'KILL', $pid if $pid; waitpid $pid, 0 if $pid; }

1;
