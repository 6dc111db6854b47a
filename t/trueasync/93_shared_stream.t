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
#     goes on, the next requests connect again.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel json_decode);
use TARedis;

plan tests => 4 + 4 + 4 + 4;

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
