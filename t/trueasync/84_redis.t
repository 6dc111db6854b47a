# 84. Redis (issue 21): phpredis' socket is a PHP stream, so its commands
#     yield: 30 concurrent BLPOPs with a 0.3 s timeout on ONE PHP thread
#     (redis-server started for this test) all time out together, well under
#     a second; a pushed value reaches its own request at once, and phpredis'
#     own blPop() times out after its 1 s. session.save_handler = redis set
#     in a request keeps the session in Redis across requests, and only for
#     that request. One Redis object shared by all requests: each gets its
#     own answers, a MULTI is its coroutine's until EXEC, and one left open
#     at the end of its request is discarded. phpredis' session locking:
#     a request whose session another server has locked waits for it as a
#     coroutine, while the thread answers others.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use TATest qw(raw_request parallel json_decode);
use TARedis;

plan tests => 5 + 2 + 5 + 5 + 3 + 2 + 3;

my $port = TARedis::start();
END { TARedis::stop() }

sub rget {
    my ($path, %h) = @_;
    my $r = raw_request('trueasync_redis', path => $path, timeout => 30, %h);
    my $j = eval { json_decode($r->{body} // '') };
    return ({ status => $r->{status} // 0, %{ ref $j eq 'HASH' ? $j : {} } }, $r);
}

my $N = 30;
my @res = parallel([ map { my $id = $_; sub { (rget("/blpop?port=$port&id=$id&together=$N&batch=b"))[0] } } 1 .. $N ], 40);
is scalar(grep { $_->{status} == 200 } @res), $N, "all $N requests 200" or diag explain [ grep { $_->{status} != 200 } @res ];
is scalar(grep { exists $_->{got} && !defined $_->{got} } @res), $N, 'every BLPOP timed out empty' or diag explain $res[0];
my ($max_start) = sort { $b <=> $a } map { $_->{start} // 1e20 } @res;
my ($min_start) = sort { $a <=> $b } map { $_->{start} // 0 } @res;
my ($max_end) = sort { $b <=> $a } map { $_->{end} // 1e20 } @res;
ok $max_start - $min_start < 0.25, 'all 30 began together';
ok $max_end - $min_start < 1.0, sprintf('30 x BLPOP 0.3 s on one PHP thread took %.2f s (< 1 s; one after another: 9 s)', $max_end - $min_start);
ok !grep({ $_->{end} - $_->{start} < 0.29 } @res), '... and none returned before its timeout';

# XREAD BLOCK likewise
my @xr = parallel([ map { my $id = $_; sub { (rget("/xread?port=$port&id=$id&together=$N&batch=x"))[0] } } 1 .. $N ], 40);
ok !grep({ $_->{status} != 200 || defined $_->{got} || $_->{end} - $_->{start} < 0.29 } @xr), "$N XREAD BLOCK 300: each waited its 0.3 s and got nothing";
my ($xs) = sort { $a <=> $b } map { $_->{start} } @xr;
my ($xe) = sort { $b <=> $a } map { $_->{end} } @xr;
ok $xe - $xs < 1.0, sprintf('... together on one PHP thread: %.2f s (one after another: 9 s)', $xe - $xs);

# SUBSCRIBE: the subscriber waits as a coroutine; a request published to
# it on the same thread meanwhile
my @ps = parallel([
    sub { (rget("/subscribe?port=$port&id=77"))[0] },
    sub { sleep 0.3; my ($n) = rget('/nap'); $n },
    sub { sleep 0.5; (rget("/publish?port=$port&id=77"))[0] },
], 10);
is_deeply [ map { $_->{status} } @ps ], [ 200, 200, 200 ], 'SUBSCRIBE: subscriber, another request and the publisher all 200';
is $ps[2]{receivers}, 1, "... the publisher, on the same thread, reached the subscriber (after $ps[2]{waited_ms} ms)";
is $ps[0]{got}, 'm77', '... which got the message';

my ($p) = rget("/blpop?port=$port&id=4242&push=1&plain=1");
is_deeply $p->{got}, ['ta_list_4242', 'v4242'], 'a pushed value: BLPOP answers with it';
ok $p->{end} - $p->{start} > 0.95 && $p->{end} - $p->{start} < 1.5 && !defined $p->{plain}, "... then phpredis' blPop() times out after its 1 s";

my ($s1, $r1) = rget("/session?port=$port");
my ($cookie) = map { $_->[1] =~ /^(PHPSESSID=[^;]+)/ ? $1 : () } grep { lc $_->[0] eq 'set-cookie' } @{ $r1->{headers} || [] };
is $s1->{handler}, 'redis', 'session.save_handler = redis in the request';
ok $cookie, 'a session cookie' or diag explain $r1;
my ($s2) = rget("/session?port=$port", headers => [Cookie => $cookie // '']);
is_deeply [ $s2->{sid}, $s2->{n} ], [ $s1->{sid}, 2 ], 'the next request continues the session from Redis';
like `redis-cli -p $port GET PHPREDIS_SESSION:$s1->{sid}`, qr/n\|i:2;/, 'Redis holds it';
my ($nap) = rget('/nap');
isnt $nap->{handler}, 'redis', 'another request keeps the worker\'s own save_handler';

is rget("/shared_init?port=$port")->{status}, 200, 'a Redis object shared by later requests';
my $M = 20;
my @sh = parallel([ map { my $id = $_; sub { (rget("/shared?id=$id&together=$M&batch=sh"))[0] } } 1 .. $M ], 30);
is scalar(grep { $_->{status} == 200 } @sh), $M, "shared: all $M requests 200" or diag explain [ grep { $_->{status} != 200 } @sh ];
is_deeply [ map { [ $_->{get}, $_->{exec} ] } @sh ], [ map { [ "v$_", [ 1, "v$_" ] ] } 1 .. $M ],
    'shared: each request got its own answers, and its own MULTI ... EXEC'
    or diag explain [ map { [ $_->{get}, $_->{exec} ] } @sh ];
is rget("/shared?id=600&open=1")->{status}, 200, 'shared: a request that ends inside its MULTI';
my ($after) = rget("/shared?id=601");
is_deeply [ $after->{get}, $after->{exec}, scalar `redis-cli -p $port EXISTS ta_open_600` ], [ 'v601', [ 1, 'v601' ], "0\n" ],
    '... had it discarded: the next request runs as usual, and the open MULTI never ran';

# phpredis' session lock, held by another server (its key set here for
# 700 ms): the request waits for it between tries as a coroutine, while
# another request on the same thread answers.
my $sid = "talock$$";
system('redis-cli', '-p', $port, 'SET', "PHPREDIS_SESSION:${sid}_LOCK", 'another-server', 'PX', '700');
my $t_lock = time;
my @lk = parallel([
    sub { (rget("/locked?port=$port&sid=$sid"))[0] },
    sub { sleep 0.2; my $t = time; my ($n) = rget('/nap'); $n->{took} = time - $t; $n },
], 2);
is_deeply [ map { $_->{status} } @lk ], [ 200, 200 ], 'session lock: both requests 200';
ok $lk[0]{got_lock} - $t_lock > 0.65 && $lk[0]{n} == 1, sprintf('session lock: the request got the session once the other server\'s lock expired (%.2f s)', $lk[0]{got_lock} - $t_lock)
    or diag explain \@lk;
ok $lk[1]{took} < 0.25, sprintf('session lock: another request on the thread answered in %.2f s while it waited', $lk[1]{took});
