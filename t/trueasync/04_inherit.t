# Settings inheritance: a vhost that does not set TrueAsyncRetryAfter /
# TrueAsyncPHPIni gets the main server's values (RetryAfter 7,
# default_socket_timeout 77); a vhost's own setting wins over the main one.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request json_decode);

plan tests => 9;

my $V = 'trueasync_inherit';

my $r = raw_request($V, path => '/ini');
is $r->{status}, 200, 'inherit vhost answers';
like $r->{body} // '', qr/default_socket_timeout=77\b/,
     'main-server TrueAsyncPHPIni inherited by the vhost worker';

my $A = TATest::Conn->new($V);
$A->send_request(path => '/hold?ms=1200');
sleep 0.3;
my $B = raw_request($V, path => '/ini', timeout => 10);
is $B->{status}, 503, 'second request -> 503 (TrueAsyncBufferSize 1 set in vhost)';
is TATest::Conn::hdr($B, 'Retry-After'), '7',
   'Retry-After inherited from main-server TrueAsyncRetryAfter 7';
my $rA = $A->read_response(timeout => 10);
$A->close;
is $rA->{status}, 200, 'holding request -> 200';

# main server's own worker has the setting too
$r = raw_request(undef, path => '/api/ini');
is $r->{status}, 200, 'main server /api/ini';
my $j = eval { json_decode($r->{body}) } || {};
is $j->{default_socket_timeout}, '77', 'main worker default_socket_timeout 77';

# the fatal vhost sets its own memory_limit; the main worker keeps PHP's default
isnt $j->{memory_limit}, '32M', 'vhost TrueAsyncPHPIni does not leak into the main worker';
$r = raw_request('trueasync_fatal', path => '/');
like $r->{body} // '', qr/limit=32M/, 'vhost TrueAsyncPHPIni memory_limit 32M applied to its worker';
