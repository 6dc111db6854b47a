# 95. Coroutines waiting for a database handle that another coroutine holds
#     are cancelled together with the holder (a client gone at the end of a
#     wrk run cancels all its requests at once). Before the fix, a waiter
#     that was cancelled and taken out of the handle's queue came back to a
#     guard freed meanwhile by the holder and released it (and the PDO)
#     once more: the PDO was freed while the worker still held it, and the
#     child died with a segfault (bench/symfony_full.sh, the /shared route).
#     - In one request, 5 rounds: a holder in SELECT SLEEP(5) and 3 waiters
#       on one PDO, the holder cancelled first: each waiter ends with its
#       cancellation, the PDO the worker holds is still alive.
#     - 5 rounds of 20 requests on a PDO shared by the requests, whose
#       clients all close while one runs SELECT SLEEP(1) and the others
#       wait for it.
#     - The same child serves afterwards; no child died.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode log_mark child_crashes);
use TAMariaDB;

plan tests => 10;

my $port = TAMariaDB::start();
END { TAMariaDB::stop() }
my $V = 'trueasync_db_guard_cancel';

sub get {
    my ($path) = @_;
    my $r = raw_request($V, path => $path, timeout => 20);
    my $j = eval { json_decode($r->{body} // '') };
    return { status => $r->{status} // 0, (ref $j eq 'HASH' ? %$j : (list => $j)) };
}

my $mark = log_mark();
my $before = get("/ping?port=$port");
is $before->{one}, 1, 'the worker reaches the test\'s MariaDB' or diag explain $before;

my $race = get("/race?port=$port&rounds=5&waiters=3");
is $race->{status}, 200, 'holder and waiters cancelled together, 5 rounds: the request answers';
my @rounds = ref $race->{list} eq 'ARRAY' ? @{ $race->{list} } : ();
is scalar(@rounds), 5, 'every round reported' or diag explain $race;
is scalar(grep { $_->{alive} } @rounds), 5, 'the PDO the worker holds is alive after each round (not freed by a waiter)'
    or diag explain \@rounds;
is_deeply [ map { @{ $_->{waiters} // [] } } @rounds ], [ ('cancelled') x 15 ],
    'each waiter ended with its cancellation' or diag explain \@rounds;
is scalar(grep { ($_->{holder} // '') ne 'done' } @rounds), 5, 'each holder was stopped in its query'
    or diag explain \@rounds;

my $N = 20;
my $setups = 0;
for (1 .. 5) {
    $setups++ if get("/setup?port=$port")->{ok};
    my @c = map { TATest::Conn->new($V) } 1 .. $N;
    $_->send_request(path => '/sleep') for @c;
    sleep 0.4;                  # one holds the shared PDO, the others wait for it
    $_->close for @c;           # all gone at once
    sleep 0.2;
}
is $setups, 5, 'the shared PDO was made for each round of disconnecting clients';

my $after = get("/ping?port=$port");
is $after->{one}, 1, 'the worker still answers after the cancelled rounds' or diag explain $after;
is $after->{pid}, $before->{pid}, 'by the same child';
is scalar(child_crashes($mark)), 0, 'no child died' or diag join "\n", child_crashes($mark);
