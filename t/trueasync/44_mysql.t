# 44. A real MariaDB server (Debian's), started for this test: 50 concurrent
#     requests on ONE PHP thread, each running SELECT SLEEP(0.2) through PDO
#     (and mysqli), all finish in under 1.5 s, and every answer reaches the
#     request that asked for it. The worker holds each batch until all 50
#     have arrived, so the queries start together however slowly the
#     test's forked clients come in.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use TATest qw(raw_request parallel json_decode);
use TAMariaDB;

plan tests => 11;

my $port = TAMariaDB::start();
END { TAMariaDB::stop() }

sub mget {
    my ($path) = @_;
    my $r = raw_request('trueasync_mysql', path => $path, timeout => 20);
    return ($r->{status} // 0, eval { json_decode($r->{body} // '') } // {});
}

my ($s, $j) = mget("/pdo?port=$port&id=0");
is $s, 200, 'PDO query through the worker -> 200';
is $j->{slept}, 0, 'SELECT SLEEP(0.2) answered';

for my $api (qw(pdo mysqli)) {
    my $N = 50;
    my $t0 = time;
    my @res = parallel([ map { my $id = $_; sub {
        my ($st, $js) = mget("/$api?port=$port&id=$id&together=$N&batch=$api");
        return { status => $st, %$js };
    } } 1 .. $N ], 30);
    my $elapsed = time - $t0;
    is scalar(grep { $_->{status} == 200 } @res), $N, "$api: all $N requests 200"
        or diag explain [ grep { $_->{status} != 200 } @res ];
    is_deeply [ map { $_->{id} } @res ], [ 1 .. $N ], "$api: every request got its own row back";
    # timed from the first query's start to the last one's end, in the
    # worker: the forked clients' own start-up (seconds on a loaded 2-core
    # machine) is not the module's
    my ($min_start, $max_start, $min_end, $max_end) = TATest::spans(@res);
    ok $max_end - $min_start < 1.5, sprintf("$api: 50 x SLEEP(0.2) on one PHP thread took %.2f s (< 1.5 s; one after another: 10 s; %.2f s for the clients)", $max_end - $min_start, $elapsed);
    ok $max_start < $min_end, "$api: all 50 queries were in flight at once";
}

($s, $j) = mget("/error?port=$port");
ok $j->{thrown} && $j->{code} eq '42S02', 'a failing query throws PDOException with its SQLSTATE, as usual';
