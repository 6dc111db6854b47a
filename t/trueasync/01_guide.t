# 1. The FrankenPHP guide's entrypoint, copied unmodified, served at /.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use TATest qw(raw_request json_decode top_dir);

plan tests => 14;

# t/php/guide.php must stay byte-for-byte the PHP block of
# frankenphp-trueasync-guide.md ("## PHP entrypoint (TrueAsync API)").
my $guide = top_dir() . '/t/php/guide.php';
open my $fh, '<', $guide or die "$guide: $!";
my $src = do { local $/; <$fh> };
is md5_hex($src), 'a45a4c322a8f43ee6d5a562bcf371de5',
   'guide.php is the unmodified guide entrypoint';

my $r = raw_request('trueasync_guide', path => '/');
is $r->{error}, undef, 'GET / framed correctly';
is $r->{status}, 200, 'GET / -> 200';
like TATest::Conn::hdr($r, 'Content-Type') // '', qr{^application/json\b},
     'GET / content-type application/json';
my $j = eval { json_decode($r->{body}) };
ok ref $j eq 'HASH', 'GET / body is a JSON object' or diag $r->{body};
is $j->{message}, 'Hello from TrueAsync!', 'message';
like $j->{timestamp} // '', qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'timestamp';

$r = raw_request('trueasync_guide', path => '/nope');
is $r->{status}, 404, 'GET /nope -> 404';
like TATest::Conn::hdr($r, 'Content-Type') // '', qr{^application/json\b},
     '404 content-type application/json';
$j = eval { json_decode($r->{body}) } || {};
is $j->{error}, 'Not Found', '404 error field';
is $j->{uri}, '/nope', '404 uri field';

# query string is part of getUri(), so "/?x=1" is not "/" for this script
$r = raw_request('trueasync_guide', path => '/?x=1');
is $r->{status}, 404, 'GET /?x=1 -> 404 (uri includes the query)';
$j = eval { json_decode($r->{body}) } || {};
is $j->{uri}, '/?x=1', 'uri is path + ? + query';

# the guide script on another request still answers
$r = raw_request('trueasync_guide', path => '/');
is $r->{status}, 200, 'GET / again -> 200';
