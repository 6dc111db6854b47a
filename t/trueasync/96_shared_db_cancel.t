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
#     - The bound: TrueAsyncRequestTimeout 1 during SLEEP(4): the query is
#       cut one more second after the cancellation (TA00867), the holder
#       ends then; the connection is closed, which the next user's error
#       says and the log says once (TA00868).
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

plan tests => 56;

my $port = TAMariaDB::start();
my $pgport = TAPostgres::start();
END { TAMariaDB::stop(); TAPostgres::stop() }
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

sub reboot {
    get("/reboot?port=$port&pgport=$pgport");
    my $end = time + 20;
    while (time < $end) {
        my $s = get('/state');
        return $s if ref $s->{made} eq 'ARRAY' && "@{ $s->{made} }" eq 'pdo unbuf mysqli pg pgpdo';
        sleep 0.2;
    }
    return get('/state');
}

my $mark = log_mark();
my $boot = reboot();
is_deeply $boot->{made}, [qw(pdo unbuf mysqli pg pgpdo)], 'the worker made its PDOs, mysqli, pgsql link and pgsql PDO at boot'
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

{
    my $m = log_mark();
    my $t0 = time;
    my $r = get('/short/hold?api=pdo&secs=4&tag=bound');
    is $r->{status}, 504, 'TrueAsyncRequestTimeout 1 during SLEEP(4): 504';
    my ($rec) = record_of('bound');
    my $took = ($rec->{end} // 0) - ($rec->{start} // 0);
    ok $took >= 1.9 && $took < 3, "the query is cut one more second after the cancellation (${\ sprintf '%.2f', $took} s)"
        or diag explain $rec;
    ok wait_log($m, qr{TA00867: GET /short/hold\?api=pdo&secs=4&tag=bound was cancelled .*MySQL}, 5),
        'the log says which request\'s query was cut, and why';
    my $u = get('/use?api=pdo&id=10');
    like $u->{error} // '', qr/2006|gone away/, 'the shared PDO is closed now: the next user is told' or diag explain $u;
    get('/use?api=pdo&id=11');
    my $log = log_since($m);
    my $n = () = $log =~ /TA00868/g;
    is $n, 1, 'the log says once that the shared connection is closed' or diag $log;
    like $log, qr/TA00868: .*MySQL connection .*shared.* closed/, '... in words that say so';
    is get('/use?api=mysqli&id=12')->{id}, 12, 'the other shared handle (mysqli) still works';
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
