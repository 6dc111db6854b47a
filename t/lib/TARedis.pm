package TARedis;
# A private redis-server for the tests (Debian's redis-server): loopback,
# a free port, no persistence, stopped by stop(). start() returns its
# port, or dies.
use strict;
use TAServer ();
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(sleep time);

my ($dir, $pid);

sub start {
    my $server = '/usr/bin/redis-server';
    die "redis-server not installed (apt-get install redis-server)\n" unless -x $server;
    $dir = tempdir('ta-redis-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    my $port = TAServer::free_port();
    $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', "$dir/server.log"; open STDERR, '>&', \*STDOUT;
        { exec $server, '--port', $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
               '--dir', $dir, '--daemonize', 'no', '--maxclients', '1000' };
        POSIX::_exit(127);
    }
    my $deadline = time + 15;
    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
        if ($s) {
            print $s "PING\r\n";
            my $l = <$s> // '';
            close $s;
            return $port if $l =~ /^\+PONG/;
        }
        die "redis-server exited, see $dir/server.log\n" if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.1;
    }
    die "redis-server did not start in 15 s, see $dir/server.log\n";
}

sub stop {
    local $?;
    return unless $pid;
    kill 'TERM', $pid;
    my $deadline = time + 10;
    while (time < $deadline) { last if waitpid($pid, POSIX::WNOHANG()) == $pid; sleep 0.1; }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    system('rm', '-rf', $dir) if $dir && $dir =~ m{/ta-redis-};
    $pid = undef;
}

1;
