# 96. A MySQL handle (PDO and mysqli) made when the worker boots is shared
#     by every request of its PHP thread; the request holding it is
#     cancelled in the middle of a query. Before the fix mysqlnd's read was
#     cut from under the query, mysqlnd closed the connection, and every
#     later request on the thread failed with 2006 "MySQL server has gone
#     away" until the worker rebooted.
#     - Client hang-up during SELECT SLEEP(1.5) (PDO; a PDO with unbuffered
#       queries, through query() and through a prepared statement's
#       execute(); mysqli): the query is read to its end (an unbuffered
#       result's 8 MB skipped, also while the cancellation unwinds the
#       stack), then the holder's coroutine ends with its cancellation (not
#       later, not lingering); the request that waited for the handle
#       meanwhile and the next ones get their answers.
#     - TrueAsyncRequestTimeout 1 during SLEEP(1.5): 504 at 1 s, the query
#       ends, the handle works afterwards.
#     - A per-request PDO is still cancelled at once.
#     - A client that hangs up during `new PDO` is a cancelled request, not
#       an uncaught PDOException in the log (TA00831).
#     - The bound: TrueAsyncRequestTimeout 1 during SLEEP(30) (PDO, an
#       unbuffered PDO, mysqli): one more second after the cancellation the
#       statement is killed on the server (KILL QUERY over a second
#       connection, TA00869): it is gone from the processlist, the holder
#       ends with its cancellation then, the next request gets an answer on
#       the same connection (the same CONNECTION_ID(); before, the statement
#       was cut and the connection closed: 2006), and the KILL's connection
#       is closed (as many connections on the server as before).
#     - A per-request PDO past its TrueAsyncRequestTimeout: cancelled at
#       once, as before, nothing killed.
#     - The KILL cannot be sent (a PDO through a proxy that takes one
#       connection only): the statement is cut as before (TA00867), the
#       connection is closed, which the next user's error says and the log
#       says once (TA00868).
#     - An exception thrown while an unbuffered result is unread (no
#       cancellation): its statement skips the rest as the stack unwinds,
#       and the connection works on, as in PHP. Before, the skip's wait ran
#       with the exception in flight, did not suspend, and the child died
#       (per-request and shared PDO).
#     - PostgreSQL as before: a pgsql link and a pdo_pgsql PDO made at boot,
#       their holder's query cancelled on the server at once, the link
#       still works.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use IO::Socket::INET ();
use POSIX ();
use TATest qw(raw_request json_decode log_mark log_since wait_log child_crashes);
use TAMariaDB;
use TAPostgres;

plan tests => 92;

my $port = TAMariaDB::start();
my $pgport = TAPostgres::start();
my ($proxyport, $proxypid) = one_connection_proxy($port);
END { kill 'KILL', $proxypid if $proxypid; TAMariaDB::stop(); TAPostgres::stop() }
my $V = 'trueasync_shared_db_cancel';

sub get {
    my ($path, $timeout) = @_;
    my $r = raw_request($V, path => $path, timeout => $timeout || 20);
    my $j = eval { json_decode($r->{body} // '') };
    return { status => $r->{status} // 0, (ref $j eq 'HASH' ? %$j : ()) };
}

# Sends $path, hangs up after $after seconds; returns when it hung up.
sub hang_up {
    my ($path, $after) = @_;
    my $c = TATest::Conn->new($V);
    $c->send_request(path => $path);
    sleep $after;
    $c->close;
    return time;
}

# The worker's record of request $tag once its coroutine has ended.
sub record_of {
    my ($tag, $wait) = @_;
    my $end = time + ($wait || 10);
    while (1) {
        my $s = get('/state');
        my $r = $s->{rec}{$tag};
        return ($r, $s) if ($r && $r->{end}) || time > $end;
        sleep 0.1;
    }
}

# A TCP proxy to MariaDB's $to that takes one connection, then refuses
# more (its listening socket closed); it ends with that connection.
sub one_connection_proxy {
    my ($to) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1, ReuseAddr => 1) or die $!;
    my $pid = fork // die "fork: $!";
    return ($l->sockport, $pid) if $pid;
    my $c = $l->accept or POSIX::_exit(1);
    close $l;
    my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $to) or POSIX::_exit(1);
    my %peer = (fileno($c) => $u, fileno($u) => $c);
    my $rin = '';
    vec($rin, fileno($_), 1) = 1 for $c, $u;
    while (select(my $rout = $rin, undef, undef, undef) > 0) {
        for my $from ($c, $u) {
            next unless vec($rout, fileno($from), 1);
            my $n = sysread($from, my $buf, 65536);
            POSIX::_exit(0) unless $n;
            syswrite($peer{fileno($from)}, $buf) == $n or POSIX::_exit(0);
        }
    }
    POSIX::_exit(0);
}

# The ids of the server's connections (but this query's own), and its
# statements now running.
sub server_conns { TAMariaDB::sql('SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()') }
# How many connections the server took since it started (this query's own
# included).
sub server_connects { (TAMariaDB::sql("SHOW GLOBAL STATUS LIKE 'Connections'"))[0] =~ /(\d+)/ ? $1 : -1 }
sub server_sleeps { grep { /SLEEP\(30/ } TAMariaDB::sql("SELECT ID, IFNULL(INFO, '') FROM information_schema.PROCESSLIST") }

sub reboot {
    get("/reboot?port=$port&pgport=$pgport&proxyport=$proxyport");
    my $end = time + 20;
    while (time < $end) {
        my $s = get('/state');
        return $s if ref $s->{made} eq 'ARRAY' && "@{ $s->{made} }" eq 'pdo unbuf mysqli pg pgpdo proxied';
        sleep 0.2;
    }
    return get('/state');
}

my $mark = log_mark();
my $boot = reboot();
is_deeply $boot->{made}, [qw(pdo unbuf mysqli pg pgpdo proxied)],
    'the worker made its PDOs, mysqli, pgsql link and pgsql PDO at boot'
    or diag explain $boot;
my $pid = $boot->{pid};

for my $api (qw(pdo unbuf unbufstmt mysqli)) {
    my $tag = "hang_$api";
    my $uapi = $api eq 'unbufstmt' ? 'unbuf' : $api;
    my $pidb = fork // die "fork: $!";
    if (!$pidb) {       # B: arrives while A's query runs, waits for the handle
        sleep 0.6;
        my $r = get("/use?api=$uapi&id=42");
        POSIX::_exit(($r->{id} // 0) == 42 ? 0 : 1);
    }
    hang_up("/hold?api=$api&secs=1.5&tag=$tag", 0.4);
    waitpid $pidb, 0;
    is $? >> 8, 0, "$api: a request that waited for the handle while its holder's client left gets its answer";
    my ($r, $s) = record_of($tag);
    like $r->{how} // '', qr/^cancelled: /, "$api: the holder's coroutine ends with its cancellation" or diag explain $r;
    my $took = ($r->{end} // 0) - ($r->{start} // 0);
    ok $took >= 1.45 && $took < 2.5, "$api: ... once its query returned (after ${\ sprintf '%.2f', $took} s of SLEEP(1.5))";
    is $s->{coroutines}, 1, "$api: no coroutine of it lingers (only /state runs)" or diag explain $s;
    my $u = get("/use?api=$uapi&id=7");
    is $u->{id}, 7, "$api: the next request uses the shared handle (no 2006)" or diag explain $u;
}

{
    my $t0 = time;
    my $r = get('/short/hold?api=pdo&secs=1.5&tag=timeout_pdo');
    is $r->{status}, 504, 'TrueAsyncRequestTimeout 1 during SLEEP(1.5): 504';
    ok time - $t0 < 1.4, '... at the timeout, not when the query ends';
    my ($rec) = record_of('timeout_pdo');
    like $rec->{how} // '', qr/^cancelled: /, '... the holder ends with its cancellation';
    ok $rec->{end} - $rec->{start} >= 1.45, '... after its query returned';
    is get('/use?api=pdo&id=8')->{id}, 8, 'the shared PDO works afterwards';
    $r = get('/short/hold?api=mysqli&secs=1.5&tag=timeout_mysqli');
    is $r->{status}, 504, 'the same with mysqli: 504';
    is get('/use?api=mysqli&id=9')->{id}, 9, 'the shared mysqli works afterwards';
}

{
    my $gone = hang_up("/local?port=$port&secs=3&tag=local", 0.4);
    my ($r) = record_of('local');
    like $r->{how} // '', qr/^cancelled: /, 'a per-request PDO: cancelled' or diag explain $r;
    ok $r->{end} && $r->{end} - $gone < 0.5, '... at once, in the middle of its query' or diag explain $r;
}

{
    my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5) or die $!;
    my $m = log_mark();
    hang_up('/connect?port=' . $silent->sockport . '&tag=connect', 0.5);
    my ($r, $s) = record_of('connect');
    like $r->{how} // '', qr/PDOException|cancelled/, 'new PDO cut by a client hang-up ends with an error' or diag explain $r;
    ok $r->{end} - $r->{start} < 1.5, '... at once';
    sleep 0.3;
    my $log = log_since($m);
    unlike $log, qr/TA00831/, '... which is not logged as an uncaught exception of the script'
        or diag $log;
    is $s->{coroutines}, 1, '... and leaves no coroutine';
}

for my $api (qw(pdo unbuf mysqli)) {
    my $cid = get("/connid?api=$api")->{id};
    ok $cid, "$api: the shared handle's connection id on the server ($cid)";
    my %before = map { $_ => 1 } server_conns();
    my $m = log_mark();
    my $tag = "kill_$api";
    my $connects = server_connects();
    my $r = get("/short/hold?api=$api&secs=30&tag=$tag");
    is $r->{status}, 504, "$api: TrueAsyncRequestTimeout 1 during SLEEP(30): 504";
    my ($rec) = record_of($tag);
    is server_connects() - $connects, 2, "$api: one connection was made for the KILL (and one to ask)";
    like $rec->{how} // '', qr/^cancelled: /, "$api: the holder ends with its cancellation" or diag explain $rec;
    my $took = ($rec->{end} // 0) - ($rec->{start} // 0);
    ok $took >= 1.9 && $took < 3.5,
        "$api: ... one more second after it, its statement killed (${\ sprintf '%.2f', $took} s of SLEEP(30))"
        or diag explain $rec;
    my @left = server_sleeps();
    is scalar(@left), 0, "$api: the statement no longer runs on the server" or diag "@left";
    ok wait_log($m, qr{TA00869: GET /short/hold\?api=$api&secs=30&tag=$tag was cancelled .*KILL QUERY $cid was sent}, 5),
        "$api: the log says which request's statement was killed, and on which connection";
    is_deeply get("/connid?api=$api"), { status => 200, id => $cid },
        "$api: the next request gets its answer on the same connection (not 2006)";
    my @new;
    for (1 .. 30) { @new = grep { !$before{$_} } server_conns(); last unless @new; sleep 0.1 }
    is "@new", '', "$api: the KILL's connection is closed (no connection on the server that was not there before)";
    unlike log_since($m), qr/TA0086[78]/, "$api: nothing was cut, no connection closed";
}

{
    my $m = log_mark();
    my $r = get("/short/local?port=$port&secs=30&tag=local_timeout");
    is $r->{status}, 504, "a per-request PDO past TrueAsyncRequestTimeout: 504";
    my ($rec) = record_of('local_timeout');
    like $rec->{how} // '', qr/^cancelled: /, '... its coroutine cancelled' or diag explain $rec;
    ok $rec->{end} - $rec->{start} < 1.5, '... at once, at the timeout, in the middle of its query' or diag explain $rec;
    sleep 1.5;
    unlike log_since($m), qr/TA0086[789]/, '... its statement neither killed nor cut by the module';
}

{
    my $m = log_mark();
    my $r = get('/short/hold?api=proxied&secs=30&tag=cut');
    is $r->{status}, 504, 'the KILL cannot be sent (the proxy refuses a second connection): 504';
    my ($rec) = record_of('cut');
    my $took = ($rec->{end} // 0) - ($rec->{start} // 0);
    ok $took >= 1.9 && $took < 3.5, "the statement is cut one more second after the cancellation (${\ sprintf '%.2f', $took} s)"
        or diag explain $rec;
    ok wait_log($m, qr{TA00867: GET /short/hold\?api=proxied&secs=30&tag=cut was cancelled .*MySQL.*KILL QUERY \d+ could not be sent}, 5),
        'the log says which request\'s query was cut, and why';
    my $u = get('/use?api=proxied&id=10');
    like $u->{error} // '', qr/2006|gone away/, 'the shared PDO is closed now: the next user is told' or diag explain $u;
    get('/use?api=proxied&id=11');
    my $log = log_since($m);
    my $n = () = $log =~ /TA00868/g;
    is $n, 1, 'the log says once that the shared connection is closed' or diag $log;
    like $log, qr/TA00868: .*MySQL connection .*shared.* closed/, '... in words that say so';
    unlike $log, qr/TA00869/, '... and no KILL was said to be sent';
    is get('/use?api=pdo&id=12')->{id}, 12, 'the other shared handles still work (PDO)';
    is get('/use?api=mysqli&id=13')->{id}, 13, '... and mysqli';
}

for my $api (qw(local unbuf)) {
    my $r = get("/throwunbuf?api=$api&port=$port");
    is $r->{caught}, 'thrown mid-result', "$api unbuffered PDO: an exception thrown with 8 MB of its result unread is caught"
        or diag explain $r;
    is $r->{after}, 5, "$api unbuffered PDO: ... and the connection answers the next query";
}

for my $api (qw(pg pgpdo)) {
    my $gone = hang_up("/hold?api=$api&secs=1.5&tag=hang_$api", 0.4);
    my ($r) = record_of("hang_$api");
    like $r->{how} // '', qr/Cancel/, "$api: the holder of the shared link ends with its cancellation" or diag explain $r;
    ok $r->{end} && $r->{end} - $gone < 0.5, "$api: ... at once (the query cancelled on the server)" or diag explain $r;
    is get("/use?api=$api&id=5")->{id}, 5, "$api: the shared link works afterwards";
}

my $s = get('/state');
is $s->{pid}, $pid, 'the same child served throughout';
my $log = log_since($mark);
unlike $log, qr/TA00865/, 'no holder ended with a result left unread';
unlike $log, qr/TA00831/, 'no uncaught exception logged';
is scalar(child_crashes($mark)), 0, 'no child died' or diag join "\n", child_crashes($mark);
is $s->{coroutines}, 1, 'no coroutine left behind';
