package TAMariaDB;
# A private MariaDB server for the tests (Debian's mariadb-server): fresh
# data directory under /tmp, loopback port, no grant tables, stopped by
# stop(). start() returns its port, or dies. sql() runs statements through
# Debian's mariadb client and returns its rows (tab-separated lines).
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(sleep time);

my ($dir, $pid, $port);

sub start {
    my $mysqld = -x '/usr/sbin/mariadbd' ? '/usr/sbin/mariadbd' : '/usr/sbin/mysqld';
    die "MariaDB server not installed (apt-get install mariadb-server)\n" unless -x $mysqld;
    $dir = tempdir('ta-mariadb-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    my $user = $> == 0 ? 'mysql' : scalar getpwuid($>);
    system('chown', '-R', $user, $dir) if $> == 0;
    my $rc = system("mariadb-install-db --no-defaults --user=$user --datadir=$dir/data "
                    . "--auth-root-authentication-method=normal --skip-test-db >$dir/install.log 2>&1");
    die "mariadb-install-db failed, see $dir/install.log\n" if $rc;
    my $probe = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die $!;
    $port = $probe->sockport;
    close $probe;
    $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDOUT, '>', "$dir/server.log";
        open STDERR, '>&', \*STDOUT;
        { exec $mysqld, '--no-defaults', "--user=$user", "--datadir=$dir/data", "--socket=$dir/sock",
             "--port=$port", '--bind-address=127.0.0.1', '--skip-grant-tables', "--pid-file=$dir/pid",
             '--max-connections=200', '--skip-log-bin', '--innodb-buffer-pool-size=16M' };
        POSIX::_exit(127);
    }
    my $deadline = time + 30;
    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
        if ($s) { close $s; return $port; }
        die "MariaDB exited, see $dir/server.log\n" if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.2;
    }
    die "MariaDB did not start in 30 s, see $dir/server.log\n";
}

sub sql {
    my ($sql) = @_;
    open my $fh, '-|', 'mariadb', '--no-defaults', '-h127.0.0.1', "-P$port", '-uroot', '-N', '-B', '-e', $sql
        or die "mariadb: $!";
    my @rows = <$fh>;
    close $fh or die "mariadb failed on: $sql\n";
    chomp @rows;
    return @rows;
}

sub stop {
    local $?;
    return unless $pid;
    kill 'TERM', $pid;
    my $deadline = time + 15;
    while (time < $deadline) { last if waitpid($pid, POSIX::WNOHANG()) == $pid; sleep 0.1; }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    system('rm', '-rf', $dir) if $dir && $dir =~ m{/ta-mariadb-};
    $pid = undef;
}

1;
