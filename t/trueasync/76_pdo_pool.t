# 76. TrueAsync's PDO pool (issue 18, item 4), on ONE PHP thread whose
#     requests share each pool facade (made once by the worker):
#     PDO::ATTR_POOL_* with true-async/php-src's values, getPool() (an
#     Async\Pool; null without a pool). 20 concurrent SELECT SLEEP(0.2)
#     finish together, each on its own connection (distinct
#     CONNECTION_ID()); 20 concurrent transactions keep their own rows; a
#     transaction left open is rolled back at the coroutine's end and its
#     connection returned; at POOL_MAX the others wait for a connection; a
#     connection killed on the server is destroyed, never handed out again,
#     and the request after it works (with a health-check interval, at
#     once); with pdo_sqlite a reader's connection neither sees nor waits
#     for a writer's open transaction.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);
use TATest qw(raw_request parallel json_decode);
use TAMariaDB;

plan tests => 22;

my $port = TAMariaDB::start();
END { TAMariaDB::stop() }
my $V = 'trueasync_pdo_pool';
my $dir = tempdir('ta-pdo-pool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;

sub get {
    my ($path) = @_;
    my $r = raw_request($V, path => $path, timeout => 20);
    my $j = eval { json_decode($r->{body} // '') };
    return { status => $r->{status} // 0, (ref $j eq 'HASH' ? %$j : ()) };
}
sub uniq { my %s; grep { !$s{$_}++ } @_ }

ok get("/setup?port=$port&sqlite=$dir/pool.sqlite")->{ok}, 'the worker made its pool facades';
my $api = get('/api');
is_deeply $api->{consts}, [22, 23, 24, 25], 'PDO::ATTR_POOL_ENABLED, _MIN, _MAX, _HEALTHCHECK_INTERVAL as upstream';
ok exists $api->{plain} && !defined $api->{plain} && $api->{facade} eq 'Async\Pool',
    'getPool(): null without a pool, an Async\Pool with one' or diag explain $api;

my $N = 20;
my $t0 = time;
my @r = parallel([ map { my $id = $_; sub { get("/q?pool=big&id=$id&together=$N&batch=q") } } 1 .. $N ], 30);
my $elapsed = time - $t0;
is scalar(grep { $_->{status} == 200 && !$_->{error} } @r), $N, "$N concurrent queries through one pool facade, no error"
    or diag explain [ grep { $_->{error} } @r ];
is_deeply [ map { $_->{id} // 0 } @r ], [ 1 .. $N ], 'every request got its own answer';
is scalar(uniq(map { $_->{conn} // 0 } @r)), $N, "$N concurrent coroutines, $N distinct connections (CONNECTION_ID())";
my ($max_start) = sort { $b <=> $a } map { $_->{start} // 1e20 } @r;
my ($min_end) = sort { $a <=> $b } map { $_->{end} // 0 } @r;
ok $max_start < $min_end, sprintf('the queries ran together, not one after another (all %.2f s)', $elapsed);

@r = parallel([ map { my $id = $_; sub { get("/txn?pool=big&id=$id&together=$N&batch=txn") } } 1 .. $N ], 30);
is scalar(grep { $_->{status} == 200 && !$_->{error} } @r), $N, "$N concurrent transactions through the facade, no error"
    or diag explain [ grep { $_->{error} } @r ];
is_deeply get('/ids')->{ids}, [ grep { $_ % 2 == 0 } 1 .. $N ], 'the table holds exactly the committed (even) rows';

is get('/open?pool=big&id=555')->{open}, 1, 'a request ends with its transaction open';
ok !grep({ $_ == 555 } @{ get('/ids')->{ids} // [] }), '... it was rolled back when its coroutine ended';
my $st = get('/stats?pool=big');
is $st->{active}, 0, "... and every connection is back in the pool (count $st->{count}, idle $st->{idle})";

$t0 = time;
@r = parallel([ map { my $id = $_; sub { get("/q?pool=small&id=$id&sleep=0.3&together=4&batch=small") } } 1 .. 4 ], 30);
$elapsed = time - $t0;
is scalar(grep { $_->{status} == 200 && !$_->{error} } @r), 4, 'POOL_MAX 2, 4 concurrent requests: all served'
    or diag explain \@r;
cmp_ok scalar(uniq(map { $_->{conn} } @r)), '<=', 2, 'they shared at most 2 connections';
is get('/stats?pool=small')->{max_active}, 2, 'two out at once, never more';
my @ends = sort { $a <=> $b } map { $_->{end} } @r;
cmp_ok $ends[-1] - $ends[0], '>=', 0.25, sprintf('the last two waited for a connection (ended %.2f s after the first)', $ends[-1] - $ends[0]);

my $c1 = get('/conn?pool=plain')->{conn};
ok get("/kill?id=$c1")->{killed}, "connection $c1 killed on the server";
my $after = get('/conn?pool=plain');          # may fail: the pool cannot know yet
my $next = get('/conn?pool=plain');
ok $next->{conn} && $next->{conn} != $c1 && (!$after->{conn} || $after->{conn} != $c1),
    "the killed connection is replaced; the request after it works on connection " . ($next->{conn} // 'none')
    or diag explain [$after, $next];

my $h1 = get('/conn?pool=hc')->{conn};
get("/kill?id=$h1");
sleep 0.05;
my $h2 = get('/conn?pool=hc');
ok $h2->{conn} && $h2->{conn} != $h1, 'with a health-check interval the idle connection is checked: the next request works at once'
    or diag explain $h2;

my @sq = parallel([ sub { get('/sqlite?pool=sqlite&role=writer') },
                    sub { sleep 0.1; get('/sqlite?pool=sqlite&role=reader') } ], 20);
is $sq[0]{status}, 200, 'pdo_sqlite pool: a writer holds an open transaction for 0.3 s' or diag explain \@sq;
is $sq[1]{count}, 0, '... a reader on its own connection does not see its row';
cmp_ok $sq[1]{secs} // 9, '<', 0.2, '... nor waits for it';
