# 83. PostgreSQL yields (issue 21): a private PostgreSQL server (Debian's),
#     started for this test. 30 concurrent requests on ONE PHP thread, each
#     running SELECT pg_sleep(0.3) through pgsql (and through PDO) once
#     all are connected, are in
#     flight together and all answered well under a second, each with its
#     own row. Every call (connect, query, query_params, prepare/execute,
#     fetch_*, COPY in and out, send_query/get_result, PDO prepare/execute
#     and transactions, failures) gives inside a coroutine what Debian's
#     php8.2 CLI gives for the same code. A query whose coroutine is
#     cancelled, or whose request TrueAsyncRequestTimeout ends, is gone from
#     pg_stat_activity at once, and a cancelled one's connection still works.
#     A pgsql link and a PDO shared by all requests: each transaction is
#     its coroutine's alone, and one left open at the end of its request
#     is rolled back. TrueAsync's PDO pool over pdo_pgsql: a connection
#     per coroutine.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request parallel top_dir json_decode json_encode);

# the reference CLI reads Debian's own ini files only
delete $ENV{PHP_INI_SCAN_DIR};
use TAPostgres;

plan tests => 2 * 5 + 1 + 2 * 4 + 3 + 1 + 2 * 4 + 1 + 3;

my $port = TAPostgres::start();
END { TAPostgres::stop() }

sub pget {
    my ($path) = @_;
    my $r = raw_request('trueasync_pgsql', path => $path, timeout => 40);
    my $j = eval { json_decode($r->{body} // '') };
    return { status => $r->{status} // 0, %{ ref $j eq 'HASH' ? $j : {} } };
}

# queries of the given tag still running on the server
sub active {
    my ($tag) = @_;
    return TAPostgres::psql($port, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                   . "AND query LIKE '%$tag%' AND pid <> pg_backend_pid()");
}
sub gone_within {
    my ($tag, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) { return 1 if active($tag) eq '0'; sleep 0.1; }
    return 0;
}

for my $api (qw(pg pdo)) {
    my $N = 30;
    my $t0 = time;
    my @res = parallel([ map { my $id = $_; sub { pget("/$api?port=$port&id=$id&together=$N&batch=$api") } } 1 .. $N ], 40);
    my $elapsed = time - $t0;
    is scalar(grep { $_->{status} == 200 } @res), $N, "$api: all $N requests 200"
        or diag explain [ grep { $_->{status} != 200 } @res ];
    is_deeply [ map { $_->{id} } @res ], [ 1 .. $N ], "$api: every request got its own row back";
    my ($min_start, $max_start, $min_end, $max_end) = TATest::spans(@res);
    ok $max_start < $min_end, "$api: all 30 queries were in flight at once";
    ok $max_end - $min_start < 1.0, sprintf("$api: 30 x pg_sleep(0.3) on one PHP thread took %.2f s (< 1 s; one after another: 9 s)", $max_end - $min_start);
    ok $elapsed < 8, sprintf("$api: and %.2f s for the test's clients (30 new connections included)", $elapsed);
}

my $ref = json_decode(scalar `/usr/bin/php8.2 @{[ top_dir() ]}/t/php/inc/pg_ops.php $port`);
my $ops = pget("/ops?port=$port");
is json_encode($ops->{ops}), json_encode($ref), 'every call gives what Debian\'s PHP gives (answers, warnings, error codes)'
    or diag explain { module => $ops->{ops}, cli => $ref };

for my $api (qw(pg pdo)) {
    my $tag = "ta_cancel_${api}_$$";
    my $r = pget("/cancel?port=$port&api=$api&tag=$tag");
    like $r->{outcome} // '', qr/Cancel/, "$api: the coroutine's query ends cancelled ($r->{outcome})";
    ok(($r->{cancel_ms} // 1e9) < 5000, "$api: ... at once ($r->{cancel_ms} ms after it began)");
    is $r->{usable}, 7, "$api: the connection answers the next query";
    ok gone_within($tag, 3), "$api: the query is gone from pg_stat_activity";
}

my $tag = "ta_timeout_$$";
my $t0 = time;
my $r = pget("/timeout?port=$port&tag=$tag");
ok $r->{status} >= 500 && !$r->{finished}, "TrueAsyncRequestTimeout 1 ends the request mid-query ($r->{status})";
ok gone_within($tag, 3), '... and its query is gone from pg_stat_activity';
is pget('/nap')->{status}, 200, 'the thread serves the next request';

# One connection shared by the thread's coroutines (made once, as at boot):
# a transaction is its coroutine's alone; the others wait for it to end.
is pget("/shared_init?port=$port")->{status}, 200, 'a pgsql link and a PDO shared by later requests';
for my $api (qw(pg pdo)) {
    my $N = 12;
    my @res = parallel([ map { my $id = $_; sub { pget("/shared?api=$api&id=$id&together=$N&batch=sh$api") } } 1 .. $N ], 20);
    is scalar(grep { $_->{status} == 200 } @res), $N, "$api shared: all $N requests 200"
        or diag explain [ grep { $_->{status} != 200 } @res ];
    is_deeply [ map { [ $_->{seen}, $_->{mine} ] } @res ], [ map { [ 1, $_ ] } 1 .. $N ],
        "$api shared: each transaction saw its own row only"
        or diag explain [ map { [ $_->{id}, $_->{seen}, $_->{mine} ] } @res ];
    my $open = pget("/shared?api=$api&id=500&open=1");
    is_deeply [ $open->{status}, $open->{seen} ], [ 200, 1 ], "$api shared: a request that ends inside its transaction";
    my $next = pget("/shared?api=$api&id=501");
    is_deeply [ $next->{seen}, $next->{mine} ], [ 1, 501 ], "$api shared: ... had it rolled back: the next one sees its own row only";
}

# A query of one request still running on the shared link when another
# request's pg_query() starts: pg_query() first asks libpq for results
# left over (PQgetResult), which must wait its turn too, or it takes the
# running query's result (the other request's) and that one fails.
{
    my @res = parallel([ sub { pget("/shared_one?id=71&secs=0.5") },
                         sub { select(undef, undef, undef, 0.15); pget("/shared_one?id=72&secs=0") } ], 20);
    is_deeply [ map { [ $_->{status}, $_->{got} // 'none', $_->{warning} // '' ] } @res ], [ [ 200, 71, '' ], [ 200, 72, '' ] ],
        "pg shared: a query that starts while another request's runs gets its own result, and that one its own"
        or diag explain \@res;
}

# TrueAsync's PDO pool over pdo_pgsql: 30 coroutines, 30 connections of
# their own, the queries together.
{
    my $N = 30;
    my @res = parallel([ map { my $id = $_; sub { pget("/pool?port=$port&id=$id&together=$N&batch=pool") } } 1 .. $N ], 40);
    is_deeply [ map { $_->{id} } @res ], [ 1 .. $N ], "pool: all $N requests got their own row"
        or diag explain [ grep { $_->{status} != 200 } @res ];
    my %pids = map { ($_->{pid} // 0) => 1 } @res;
    is scalar(keys %pids), $N, "pool: ... each on a server connection of its own";
    my ($s) = sort { $a <=> $b } map { $_->{start} // 0 } @res;
    my ($e) = sort { $b <=> $a } map { $_->{end} // 1e20 } @res;
    ok $e - $s < 1.0, sprintf('pool: 30 x pg_sleep(0.3) through one pool facade took %.2f s', $e - $s);
}
