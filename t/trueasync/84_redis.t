# 84. Redis (issue 21): phpredis' socket is a PHP stream, so its commands
#     yield: 30 concurrent BLPOPs with a 0.3 s timeout on ONE PHP thread
#     (redis-server started for this test) all time out together, well under
#     a second; a pushed value reaches its own request at once, and phpredis'
#     own blPop() times out after its 1 s. session.save_handler = redis set
#     in a request keeps the session in Redis across requests, and only for
#     that request.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use TATest qw(raw_request parallel json_decode);
use TARedis;

plan tests => 5 + 2 + 5;

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
