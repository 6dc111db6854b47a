# date_default_timezone_set() inside a request is that request's: while it
# waits, other requests on the same PHP thread keep the worker's zone (set
# at boot); its coroutines see its zone; after it ends nothing is left.
# As with php-cgi, where every request starts from the configured zone.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode);

my $V = 'trueasync_timezone';
sub get { my $r = raw_request($V, path => shift, timeout => 10); eval { json_decode($r->{body}) } || {} }

is get('/')->{start}, 'UTC', 'a request starts with the worker\'s zone';

my $c = TATest::Conn->new($V);
$c->send_request(path => '/?tz=Asia/Tokyo&ms=600');
sleep 0.2;
my @during = map { get('/')->{start} } 1 .. 5;
is_deeply \@during, [('UTC') x 5], 'while it waits with Asia/Tokyo, 5 other requests on the thread see UTC';
my $r = $c->read_response(timeout => 10);
my $o = eval { json_decode($r->{body}) } || {};
is $o->{start}, 'UTC', 'its own start was UTC';
is $o->{child}, 'Asia/Tokyo', 'a coroutine it spawned sees its zone';
is $o->{after_wait}, 'Asia/Tokyo', 'its zone is back after it waited while the others ran';
is $o->{date_T}, 'JST', 'date() formats in its zone';
is get('/')->{start}, 'UTC', 'after it ended the next request has the worker\'s zone again';

# many at once, each with its own zone
my @zones = qw(Europe/Paris America/New_York Asia/Kolkata Australia/Sydney Africa/Cairo);
my @conns = map { my $k = TATest::Conn->new($V); $k->send_request(path => "/?tz=$_&ms=200"); $k } @zones;
my @seen = map { my $x = $_->read_response(timeout => 10); (eval { json_decode($x->{body}) } || {})->{after_wait} // '' } @conns;
is_deeply \@seen, \@zones, 'five requests interleaved on one thread each keep their own zone';
done_testing();
