# Issue 18: Doctrine DBAL 3 and Eloquent from Debian's packages, each with
# ONE connection made when the worker boots (DriverManager::getConnection;
# Capsule::addConnection, setAsGlobal, bootEloquent), shared by every
# request of its PHP thread. 20 requests at once each write their row,
# wait in a query, read back what they can see (only their own row) and
# keep it (even ids) or not (odd ids): the tables hold exactly the kept rows.
# - In a transaction (committed / rolled back), in a frankenphp_handle_request()
#   loop worker (2 threads) and in an HttpServer::onRequest() worker with
#   TrueAsyncMaxConcurrency 1 (1 thread). Both libraries keep the transaction
#   level in the connection object, so transactions on one shared object
#   need one request at a time on it.
# - In single statements (the odd row deleted again) in an onRequest() worker
#   with no limit (1 thread): the connection shared by concurrent requests
#   never mixes their statements or results.
# A private server: the workers learn MariaDB's port at boot.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(parallel top_dir json_decode);
use TAServer;
use TAMariaDB;

plan tests => 24;

my $dbport = TAMariaDB::start();
END { TAMariaDB::stop() }
TAMariaDB::sql('CREATE DATABASE ta_fw');
for my $t (map { ("dbal_$_", "eloquent_$_") } qw(loop one onreq)) {
    TAMariaDB::sql("CREATE TABLE ta_fw.owneds_x (id INT PRIMARY KEY, owner VARCHAR(20) NOT NULL) ENGINE=InnoDB" =~ s/owneds_x/$t/r);
}

my $top = top_dir();
my $srv = TAServer->new(body => <<"CONF");
<VirtualHost *>
    ServerName loop
    TrueAsyncWorker $top/t/php/db_loop.php
    TrueAsyncThreads 2
    TrueAsyncBufferSize 20
    <Location />
        SetHandler trueasync-worker
    </Location>
</VirtualHost>
<VirtualHost *>
    ServerName one
    TrueAsyncWorker $top/t/php/db_onrequest_one.php
    TrueAsyncThreads 1
    TrueAsyncBufferSize 30
    TrueAsyncMaxConcurrency 1
    <Location />
        SetHandler trueasync-worker
    </Location>
</VirtualHost>
<VirtualHost *>
    ServerName onreq
    TrueAsyncWorker $top/t/php/db_onrequest.php
    TrueAsyncThreads 1
    TrueAsyncBufferSize 30
    <Location />
        SetHandler trueasync-worker
    </Location>
</VirtualHost>
CONF
$ENV{TA_MARIADB_PORT} = $dbport;
$srv->start or die "server did not start:\n" . $srv->log_text;

my $N = 20;
for my $kind (qw(loop one onreq)) {
    my $tx = $kind eq 'onreq' ? 0 : 1;
    for my $fw (qw(dbal eloquent)) {
        my @res = parallel([ map { my $id = $_; sub {
            my $r = $srv->get("/$fw?t=$kind&tx=$tx&id=$id&ms=100", 30, [Host => $kind]);
            my $j = eval { json_decode($r->{body}) } // { error => "HTTP $r->{status}: $r->{body}" };
            return { status => $r->{status}, %$j };
        } } 1 .. $N ], 40);
        my @bad = grep { $_->{error} || $_->{status} != 200 } @res;
        is scalar(@bad), 0, "$kind, $fw: $N concurrent requests, no error"
            or diag explain [ @bad[0 .. ($#bad < 2 ? $#bad : 2)] ];
        is scalar(grep { join(',', @{ $res[$_ - 1]{seen} || [] }) eq "r$_" } 1 .. $N), $N,
            "$kind, $fw: each request saw its own row and no other" . ($tx ? ' in its transaction' : '');
        is scalar(grep { ($_->{level} // -1) != 0 } @res), 0, "$kind, $fw: each request ended outside any transaction";
        my @rows = TAMariaDB::sql("SELECT id FROM ta_fw.${fw}_$kind ORDER BY id");
        is "@rows", join(' ', grep { $_ % 2 == 0 } 1 .. $N), "$kind, $fw: the table holds exactly the kept (even) rows";
    }
}
