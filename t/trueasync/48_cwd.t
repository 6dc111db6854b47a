# chdir() inside a request is that request's: while it waits, other
# requests on the same PHP thread keep the worker's directory (set at
# boot); its coroutines and relative paths follow its own; after it ends
# the worker's is back. As with php-cgi, where every request starts in its
# own process.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode top_dir);

my $V = 'trueasync_cwd';
my $dir = top_dir() . '/t/php';
sub get { my $r = raw_request($V, path => shift, timeout => 10); eval { json_decode($r->{body}) } || {} }

is get('/')->{start}, '/tmp', 'a request starts in the worker\'s directory';
my $c = TATest::Conn->new($V);
$c->send_request(path => "/?to=$dir&ms=600");
sleep 0.2;
is_deeply [map { get('/')->{start} } 1 .. 4], [('/tmp') x 4], 'while it waits in its own directory, 4 other requests are in the worker\'s';
my $o = eval { json_decode($c->read_response(timeout => 10)->{body}) } || {};
is $o->{child}, $dir, 'a coroutine it spawned is in its directory';
is $o->{after_wait}, $dir, 'its directory is back after the others ran';
ok $o->{relative}, 'a relative path resolves against its directory';
is get('/')->{start}, '/tmp', 'after it ended the next request is in the worker\'s directory';
done_testing();
