# 75. Database handles shared by the coroutines of ONE PHP thread (issue 18,
#     item 3): one PDO (pdo_mysql), one mysqli and one PDO (pdo_sqlite),
#     made once and kept by the worker, used by every request.
#     - 20 concurrent SELECT SLEEP(0.2), ? on the PDO and 20 on the mysqli
#       (OO and procedural): each gets its own answer, no error (before:
#       "2014 Cannot execute queries while other unbuffered queries are
#       active", "Commands out of sync").
#     - 20 concurrent transactions (insert, wait, commit the even ids, roll
#       back the odd) on each of PDO, PDO with raw START TRANSACTION,
#       mysqli and pdo_sqlite: the table holds exactly the committed rows.
#     - A request that ends with its transaction open: rolled back, warning
#       TA00865 naming the request, and the next request works.
#     - A request waiting for the handle is cancelled by
#       TrueAsyncRequestTimeout (504); the handle works afterwards.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);
use TATest qw(raw_request parallel json_decode log_mark wait_log);
use TAMariaDB;

plan tests => 23;

my $port = TAMariaDB::start();
END { TAMariaDB::stop() }
my $V = 'trueasync_shared_db';
my $dir = tempdir('ta-shared-db-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $dir;

sub get {
    my ($path, $timeout) = @_;
    my $r = raw_request($V, path => $path, timeout => $timeout || 20);
    my $j = eval { json_decode($r->{body} // '') };
    return { status => $r->{status} // 0, (ref $j eq 'HASH' ? %$j : ()) };
}

sub batch {
    my ($n, @kinds) = @_;
    my @jobs;
    for my $k (@kinds) {
        my ($path, $api) = @$k;
        push @jobs, map { my $id = $_; sub { get("$path?api=$api&id=$id&together=$n&batch=$path-$api") } } 1 .. $n;
    }
    my @res = parallel(\@jobs, 40);
    my %by;
    for my $i (0 .. $#res) { push @{ $by{ $kinds[int($i / $n)][1] } }, $res[$i] }
    return \%by;
}

my $s = get("/setup?port=$port&sqlite=$dir/shared.sqlite");
ok $s->{ok}, 'the worker made its shared PDO, mysqli and SQLite handles' or diag explain $s;

my $N = 20;
my $sel = batch($N, ['/select', 'pdo'], ['/select', 'mysqli']);
for my $api (qw(pdo mysqli)) {
    my @r = @{ $sel->{$api} };
    my @bad = grep { $_->{status} != 200 || $_->{error} } @r;
    is scalar(@bad), 0, "$api: $N concurrent SELECT SLEEP(0.2) on the one shared handle, no error"
        or diag explain [ @bad[0 .. ($#bad < 2 ? $#bad : 2)] ];
    is_deeply [ map { $_->{id} // 0 } @r ], [ 1 .. $N ], "$api: every request got its own answer";
}

my $even = [ grep { $_ % 2 == 0 } 1 .. $N ];
for my $pair ([qw(pdo mysqli)], [qw(pdoraw sqlite)]) {
    my $tx = batch($N, map { ['/txn', $_] } @$pair);
    for my $api (@$pair) {
        my @bad = grep { $_->{status} != 200 || $_->{error} } @{ $tx->{$api} };
        is scalar(@bad), 0, "$api: $N concurrent transactions on the shared handle, no error"
            or diag explain [ @bad[0 .. ($#bad < 2 ? $#bad : 2)] ];
        is_deeply get("/ids?api=$api")->{ids}, $even, "$api: the table holds exactly the committed (even) rows";
    }
}

for my $api (qw(pdo mysqli)) {
    my $mark = log_mark();
    my $id = 900 + length $api;
    my $r = get("/open?api=$api&id=$id");
    is $r->{status}, 200, "$api: a request that ends with its transaction open answers";
    ok wait_log($mark, qr{TA00865: GET /open\?api=$api&id=$id ended holding a database connection .* a transaction open: rolled back}, 5),
        "$api: the error log names the request whose transaction was rolled back";
    ok !grep({ $_ == $id } @{ get("/ids?api=$api")->{ids} // [] }), "$api: its insert was rolled back";
}
is get('/select?api=mysqli&id=77')->{id}, 77, 'the next request works on the released handle';

my @res = parallel([
    sub { get('/hold', 10) },
    sub { sleep 0.3; my $t0 = time; my $r = get('/short/select?api=pdo&id=5', 10); $r->{secs} = time - $t0; $r },
], 20);
is $res[1]{status}, 504, 'a request waiting for the held handle is cancelled by TrueAsyncRequestTimeout 1: 504';
ok $res[0]{held}, 'the holder finished its transaction';
is get('/select?api=pdo&id=6')->{id}, 6, 'the shared handle works afterwards';
