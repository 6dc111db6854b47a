package TAUpstream;
# Local upstreams for the tests, each in a forked process that forks per
# connection:
#   start():      plain HTTP
#     GET /hang   reads the request, then answers nothing for 3 s
#     GET /reset  sends a partial response, then resets the connection
#     GET /other  answers "slow:/other" after 200 ms
#   start_tls():  TLS whose handshake starts 300 ms after the TCP connect,
#                 then answers "tls:/path" (the suite's throwaway certificate)
# Both return (port, pid); stop(pid) ends one.
use strict;
use warnings;
use IO::Socket::INET ();
use Socket qw(SOL_SOCKET SO_LINGER);
use POSIX ();
use Time::HiRes qw(sleep);

# Listens on a free loopback port and runs $handle->($conn) in a child per
# connection; the server never outlives the test run.
sub serve {
    my ($handle) = @_;
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
        $handle->($c);
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}

sub read_path {
    my ($c) = @_;
    my $req = '';
    while ($req !~ /\r\n\r\n/) { my $n = sysread($c, my $buf, 4096); last unless $n; $req .= $buf; }
    my ($path) = $req =~ m{^GET (\S+)};
    return $path // '/';
}

sub start {
    return serve(sub {
        my ($c) = @_;
        my $path = read_path($c);
        if ($path eq '/hang') { sleep 3; return; }
        if ($path eq '/reset') {
            syswrite $c, "HTTP/1.0 200 OK\r\n\r\npartial";
            sleep 0.1;
            setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
            return;
        }
        sleep 0.2;
        my $body = "slow:$path";
        syswrite $c, "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
    });
}

sub start_tls {
    my ($cert, $key) = @_;
    require IO::Socket::SSL;
    return serve(sub {
        my ($c) = @_;
        sleep 0.3;
        IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_cert_file => $cert, SSL_key_file => $key)
            or POSIX::_exit(1);
        my $body = 'tls:' . read_path($c);
        print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
        $c->close(SSL_fast_shutdown => 1);
    });
}

sub stop { local $?; my $pid = shift; kill 'KILL', $pid if $pid; waitpid $pid, 0 if $pid; }

1;
