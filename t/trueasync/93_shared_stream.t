# 93. Socket streams shared by the requests of a thread (a client made when
#     the worker booted, as code written for one request at a time keeps
#     it): the coroutines of one request at a time use it, so every reply
#     reaches the request that asked, whole, however the requests overlap.
#     On a raw RESP connection (a reply read in many parts) and with
#     Debian's Predis, against a real redis-server. A command that waits on
#     the server holds the shared connection (requests take turns, as in a
#     worker serving one request at a time) while connections of the
#     requests' own still run at once. A request that closes the shared
#     connection while others wait for it: they fail cleanly, the thread
#     goes on, the next requests connect again. A request cancelled in the
#     middle of an exchange on the shared connection (TrueAsyncRequestTimeout,
#     a client gone): the next request gets an error, never the rest of that
#     exchange (the socket is shut down, TA00871), and connects again. A
#     destructor that fclose()s a socket another request is reading (no
#     coroutine may wait there): it closes when that request lets go. A
#     request cancelled after its exchange ended leaves the socket alone.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel json_decode log_mark log_since wait_log);
use TARedis;

plan tests => 4 + 4 + 4 + 4 + 7 + 4 + 2 + 2;

my $port = TARedis::start();
END { TARedis::stop() }

sub rget {
    my ($path) = @_;
    my $r = raw_request('trueasync_shared_stream', path => $path, timeout => 30);
    my $j = eval { json_decode($r->{body} // '') };
    return { status => $r->{status} // 0, %{ ref $j eq 'HASH' ? $j : {} } };
}

# 1. raw RESP, 40 requests at once, 60 kB values (read in many parts)
my $N = 40;
my @res = parallel([ map { my $id = $_; sub { rget("/raw?port=$port&id=$id&together=$N&batch=raw") } } 1 .. $N ], 60);
is scalar(grep { $_->{status} == 200 } @res), $N, "raw: all $N requests 200";
is scalar(grep { ($_->{set} // '') eq '+OK' } @res), $N, 'raw: every SET got its own +OK'
    or diag explain [ grep { ($_->{set} // '') ne '+OK' } @res ];
is scalar(grep { $_->{same} } @res), $N, 'raw: every GET got its own value back, whole'
    or diag explain [ map { { id => $_->{id}, got => $_->{got} } } grep { !$_->{same} } @res ];
is rget("/raw?port=$port&id=after")->{same}, JSON::PP::true(), 'raw: the connection is in step afterwards';

# 2. Debian's Predis, one client for the worker. Predis connects on first
#    use, and its connect waits: requests that came together would each
#    connect and overwrite its connection (the client's own state, which no
#    stream guard can keep whole); connected first, as a worker does at boot.
is rget("/predis?port=$port&id=boot")->{same}, JSON::PP::true(), 'Predis: connected by a first request';
@res = parallel([ map { my $id = $_; sub { rget("/predis?port=$port&id=$id&together=30&batch=predis") } } 1 .. 30 ], 60);
is scalar(grep { $_->{status} == 200 } @res), 30, 'Predis: all 30 requests 200';
is scalar(grep { $_->{same} } @res), 30, 'Predis: each request reads its own value'
    or diag explain [ map { { id => $_->{id}, got => $_->{got} } } grep { !$_->{same} } @res ];
is scalar(grep { ref $_->{list} eq 'ARRAY' && "@{$_->{list}}" eq "$_->{id}" } @res), 30,
    "Predis: each request's list holds its own id only";

# 3. waiting commands: the shared connection takes them in turn, own connections at once
@res = parallel([ map { my $id = $_; sub { rget("/blpop?port=$port&id=s$id&shared=1&secs=0.3&together=4&batch=bs") } } 1 .. 4 ], 30);
is scalar(grep { $_->{status} == 200 && exists $_->{got} && !defined $_->{got} } @res), 4,
    'shared BLPOP: 4 requests, each timed out empty (its own reply)' or diag explain \@res;
# Each request's command went out only once the previous one had its reply
# (the guard's order, on the worker's monotonic clock; no timing bound).
# Four replies alike would not show a command sent while another waited.
my @spans = sort { $a->[0] <=> $b->[0] } map { [ $_->{sent} || 0, $_->{replied} || 0 ] } @res;
my @overlaps = grep { $spans[$_][0] < $spans[$_ - 1][1] } 1 .. $#spans;
ok !grep({ !$_->[0] || !$_->[1] } @spans) && !@overlaps,
    '... one after another on the shared connection (each sent after the previous reply)'
    or diag explain [ map { [ map { $_ / 1e9 } @$_ ] } @spans ];
@res = parallel([ map { my $id = $_; sub { rget("/blpop?port=$port&id=o$id&secs=0.3&together=10&batch=bo") } } 1 .. 10 ], 30);
my ($min_start) = sort { $a <=> $b } map { $_->{start} // 1e20 } @res;
my ($max_end) = sort { $b <=> $a } map { $_->{end} // 0 } @res;
is scalar(grep { $_->{status} == 200 && exists $_->{got} && !defined $_->{got} } @res), 10, 'own connections: 10 BLPOP answered';
ok $max_end - $min_start < 1.5, sprintf('... at once on one thread (%.2f s for 10 x 0.3 s)', $max_end - $min_start);

# 4. the shared connection closed while requests wait for it
my @jobs = (sub { rget("/close?port=$port&secs=0.4") },
            map { my $id = $_; sub { select(undef, undef, undef, 0.15); rget("/raw?port=$port&id=c$id&bytes=1000") } } 1 .. 5);
@res = parallel(\@jobs, 30);
is $res[0]{closed}, JSON::PP::true(), 'a request closed the shared connection after its BLPOP';
is scalar(grep { $_->{status} == 200 } @res), 6, '... the requests waiting for it still answered';
ok !grep({ $_->{got} && !ref $_->{got} && !$_->{same} && $_->{got} !~ /^<rawc/ } @res[1 .. 5]),
    '... none got another request\'s data';
my $next = rget("/raw?port=$port&id=next");
is $next->{same}, JSON::PP::true(), 'the next request connects again and is answered';

# 5. a request cancelled in the middle of an exchange on the shared
#    connection: the rest of that exchange (the BLPOP's answer, due when
#    its 3 s are up) must not reach the next request, whose own answers
#    would then all come one behind
sub own_or_error {
    my ($r) = @_;
    return ($r->{set} // '') eq '+OK' ? $r->{same} : ref $r->{set} eq 'HASH' && ref $r->{got} eq 'HASH';
}
is rget("/raw?port=$port&id=precut&bytes=100")->{same}, JSON::PP::true(), 'before the cut: the shared connection in step';
my $mark = log_mark();
is rget("/cut/blpop?port=$port&id=cut&shared=1&secs=3")->{status}, 504,
    'a BLPOP on the shared connection cut by TrueAsyncRequestTimeout 1: 504';
my $after = rget("/raw?port=$port&id=aftercut&bytes=100&heal=1");
ok own_or_error($after), "the next request gets its own answers or an error, never the cut exchange's"
    or diag explain $after;
is rget("/raw?port=$port&id=healed&bytes=100")->{same}, JSON::PP::true(), '... and once connected again, its own';
ok wait_log($mark, qr/TA00871: GET \/cut\/blpop\S* was cancelled in the middle of an exchange/, 5),
    'TA00871 names the request whose exchange was cut';
my $gone = TATest::Conn->new('trueasync_shared_stream');
$gone->send_request(path => "/blpop?port=$port&id=gone&shared=1&secs=3");
select(undef, undef, undef, 0.5);
$gone->close;
$after = rget("/raw?port=$port&id=aftergone&bytes=100&heal=1");
ok own_or_error($after), 'a client gone in the middle of its BLPOP: the next request gets its own answers or an error'
    or diag explain $after;
is rget("/raw?port=$port&id=healed2&bytes=100")->{same}, JSON::PP::true(), '... and then its own';

# 6. a destructor closes the socket another request is reading: it cannot
#    wait there (PHP allows no fiber switch in a destructor), so the socket
#    closes once that request lets go, and the destructor's fclose() is done
is rget("/closer/check?port=$port")->{ping}, '+PONG', 'a client object of the worker answers' ;
@res = parallel([ sub { rget("/closer/hold?port=$port&secs=0.6") },
                  sub { select(undef, undef, undef, 0.2); rget("/closer/replace?port=$port") } ], 30);
ok $res[1]{status} == 200 && $res[1]{replaced}, 'its replacement, whose old one\'s destructor fclose()s the socket being read, is answered (no FiberError)'
    or diag explain $res[1];
ok $res[0]{status} == 200 && exists $res[0]{got} && !defined $res[0]{got}, '... and the request reading it got its own answer'
    or diag explain $res[0];
my $chk = rget("/closer/check?port=$port");
ok !$chk->{old_open} && ($chk->{ping} // '') eq '+PONG', '... then the old socket is closed, the new client answers'
    or diag explain $chk;


# 7. clients that hang up while another request runs through __call
#    without yielding: their cancellations are made at VM interrupts, in
#    the middle of that code, and take its trace; a frame being entered
#    through __call has no arguments in place yet (read, they were stale
#    slots: wrong values, and the child crashed on a NULL among them)
my @waits = map { my $c = TATest::Conn->new('trueasync_shared_stream'); $c->send_request(path => "/magic/wait?id=$_"); $c } 1 .. 20;
select(undef, undef, undef, 0.2);
my $busy = TATest::Conn->new('trueasync_shared_stream');
$busy->send_request(path => '/magic/busy?secs=2');
for (@waits) { select(undef, undef, undef, 0.05); $_->close }
my $b = $busy->read_response(timeout => 20);
my $traces = rget('/magic/traces')->{traces} || [];
my @magic = grep { $_->{class} eq 'Magic' || $_->{class} eq 'Cmd' } map { @$_ } @$traces;
my @wrong = grep { $_->{function} eq 'set' && defined $_->{args} && "@{$_->{args}}" ne 'k v EX 120 1 2 3 4 5 6 7 8' } @magic;
ok $b->{status} == 200 && @magic > 0, sprintf('the busy request answered; %d cancellations were made while it ran', scalar @$traces)
    or diag explain { status => $b->{status}, traces => $traces };
ok !@wrong, 'no cancellation trace shows arguments that call did not pass' or diag explain \@wrong;

# 8. cancelled after a whole exchange, while it still holds the shared
#    connection (code that does not yield): the connection is in step, so
#    it stays, for the next request as it was
$mark = log_mark();
my $quit = TATest::Conn->new('trueasync_shared_stream');
$quit->send_request(path => "/raw/busy?port=$port&id=busy&secs=1");
select(undef, undef, undef, 0.3);
$quit->close;
select(undef, undef, undef, 1.2);
$after = rget("/raw?port=$port&id=afterbusy&bytes=100");
ok(($after->{set} // '') eq '+OK' && $after->{same}, 'a request cancelled after its exchange ended: the next request is answered on the same connection')
    or diag explain $after;
unlike log_since($mark), qr/TA00871/, '... which was not shut down (no TA00871)';
