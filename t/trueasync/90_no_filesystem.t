# A URL that its <Location> hands to the worker maps to no file, as a
# proxied one (issue 23): Apache does not walk the disk for it, so an
# .htaccess and <Directory> sections that apply to the files beside it do
# not apply to it, and a directory of the same name is not redirected to
# or indexed. Access rules in <Location> still apply; TRACE stays Apache's.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request);

plan tests => 12;

my $V = 'trueasync_nofile';
sub get { raw_request($V, path => $_[0], method => $_[1] // 'GET', timeout => 10) }

# the controls: Apache reads the .htaccess and applies <Directory> to files
my $r = get('/ht/file.txt');
is $r->{status}, 500, 'a file beside the worker location: its broken .htaccess is read (500)';
$r = get('/denied/file.txt');
is $r->{status}, 403, 'a file in a <Directory> that denies: 403';

$r = get('/ht/app/x/y?q=1');
is $r->{status}, 200, 'the worker URL under the same directory: no .htaccess read (200)';
is $r->{body}, 'worker GET /ht/app/x/y?q=1 path_info=-', '... the worker answered it, no PATH_INFO from the disk';

$r = get('/denied/app/x');
is $r->{status}, 200, '<Directory> of the path the URL would map to does not apply to the worker';
like $r->{body}, qr{^worker GET /denied/app/x }, '... the worker answered it';

$r = get('/dir');
is $r->{status}, 200, 'a directory of the same name: no slash redirect';
like $r->{body}, qr{^worker GET /dir }, '... the worker answered, not the directory index';
$r = get('/dir/');
like $r->{body} // '', qr{^worker GET /dir/ }, '... also with the trailing slash';

$r = get('/ht/app/private/z');
is $r->{status}, 403, 'Require in a <Location> still applies to the worker URL';

$r = get('/ht/app/t', 'TRACE');
is $r->{status}, 200, 'TRACE to a worker URL is answered by Apache';
like TATest::Conn::hdr($r, 'Content-Type') // '', qr{^message/http}, '... as message/http (not the worker)';
