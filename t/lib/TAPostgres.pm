package TAPostgres;
# A private PostgreSQL server for the tests (Debian's postgresql): a fresh
# cluster under /tmp (initdb, trust auth, no fsync), loopback port, stopped
# by stop(). start() returns its port, or dies. As root, the server runs as
# the postgres user (PostgreSQL refuses root).
use strict;
use TAServer ();
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(sleep time);

my ($dir, $pid);

sub bindir {
    my ($b) = sort { $b cmp $a } glob '/usr/lib/postgresql/*/bin';
    die "PostgreSQL server not installed (apt-get install postgresql)\n" unless $b && -x "$b/postgres";
    return $b;
}

# Runs in a forked child as the server's user; exec never returns.
sub as_owner {
    if ($> == 0) {
        my (undef, undef, $uid, $gid) = getpwnam('postgres') or die "no postgres user\n";
        POSIX::setgid($gid);
        POSIX::setuid($uid);
    }
    { exec @_ };
    POSIX::_exit(127);
}

sub start {
    my $bin = bindir();
    $dir = tempdir('ta-postgres-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    system('chown', 'postgres', $dir) if $> == 0;
    my $k = fork // die "fork: $!";
    if (!$k) {
        open STDOUT, '>', "$dir/initdb.log"; open STDERR, '>&', \*STDOUT;
        as_owner("$bin/initdb", '-D', "$dir/data", '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync');
    }
    waitpid $k, 0;
    die "initdb failed, see $dir/initdb.log\n" if $?;
    my $port = TAServer::free_port();
    $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', "$dir/server.log"; open STDERR, '>&', \*STDOUT;
        as_owner("$bin/postgres", '-D', "$dir/data", '-p', $port, '-k', $dir,
                 '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200',
                 '-c', 'shared_buffers=16MB');
    }
    my $deadline = time + 30;
    while (time < $deadline) {
        if (!system("$bin/pg_isready -q -h 127.0.0.1 -p $port")) { return $port; }
        die "PostgreSQL exited, see $dir/server.log\n" if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.2;
    }
    die "PostgreSQL did not start in 30 s, see $dir/server.log\n";
}

# psql's answer to one statement (unaligned, tuples only).
sub psql {
    my ($port, $sql) = @_;
    my $bin = bindir();
    my $out = `$bin/psql -X -q -A -t -h 127.0.0.1 -p $port -U postgres -d postgres -c "$sql" 2>&1`;
    chomp $out;
    return $out;
}

sub stop {
    local $?;
    return unless $pid;
    kill 'INT', $pid;   # fast shutdown
    my $deadline = time + 15;
    while (time < $deadline) { last if waitpid($pid, POSIX::WNOHANG()) == $pid; sleep 0.1; }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    system('rm', '-rf', $dir) if $dir && $dir =~ m{/ta-postgres-};
    $pid = undef;
}

1;
