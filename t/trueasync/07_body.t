# 6. Request bodies: 1 MiB random bytes echoed back intact, 5 MiB hashed,
#    chunked request body, empty body, LimitRequestBody -> 413 from Apache.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use TATest qw(raw_request json_decode);

plan tests => 20;

sub random_bytes {
    my $n = shift;
    my $s = '';
    if (open my $fh, '<:raw', '/dev/urandom') { read $fh, $s, $n; close $fh }
    $s .= pack('C*', map { int rand 256 } 1 .. ($n - length $s)) if length $s < $n;
    return $s;
}

my $mib = random_bytes(1024 * 1024);
my $r = raw_request(undef, method => 'POST', path => '/api/body', body => $mib,
                    headers => ['Content-Type' => 'application/octet-stream']);
is $r->{status}, 200, '1 MiB POST -> 200';
is TATest::Conn::hdr($r, 'X-Body-Length'), 1024 * 1024, 'PHP saw 1 MiB';
is TATest::Conn::hdr($r, 'X-Body-Md5'), md5_hex($mib), 'PHP saw the same bytes (md5)';
is length($r->{body}), 1024 * 1024, 'echoed body length';
ok $r->{body} eq $mib, 'echoed body identical byte for byte';

my $five = random_bytes(5 * 1024 * 1024);
$r = raw_request(undef, method => 'POST', path => '/api/bodymd5', body => $five,
                 headers => ['Content-Type' => 'application/octet-stream'], timeout => 60);
is $r->{status}, 200, '5 MiB POST -> 200';
my $j = eval { json_decode($r->{body}) } || {};
is $j->{len}, 5 * 1024 * 1024, '5 MiB length';
is $j->{md5}, md5_hex($five), '5 MiB md5';

# chunked request body
my @pieces = map { random_bytes(1000 + 997 * $_) } 0 .. 20;
$r = raw_request(undef, method => 'POST', path => '/api/bodymd5',
                 chunked_body => \@pieces,
                 headers => ['Content-Type' => 'application/octet-stream']);
is $r->{status}, 200, 'chunked request body -> 200';
$j = eval { json_decode($r->{body}) } || {};
is $j->{len}, length(join '', @pieces), 'chunked request body length';
is $j->{md5}, md5_hex(join '', @pieces), 'chunked request body md5';

# empty body
$r = raw_request(undef, method => 'POST', path => '/api/bodymd5', body => '');
$j = eval { json_decode($r->{body}) } || {};
is $j->{len}, 0, 'empty POST body -> length 0';

# binary body with NULs and CRLFs
my $bin = "\0\r\n\r\n\0" x 1000;
$r = raw_request(undef, method => 'PUT', path => '/api/body', body => $bin);
ok $r->{body} eq $bin, 'PUT body with NUL/CRLF echoed intact';

# LimitRequestBody 65536 on /limited
$r = raw_request(undef, method => 'POST', path => '/limited/body', body => 'x' x 1000);
is $r->{status}, 200, 'small body under LimitRequestBody -> 200 (location works)';
is $r->{body}, 'x' x 1000, 'small body echoed';

$r = raw_request(undef, method => 'POST', path => '/limited/body', body => $mib,
                 headers => ['Content-Type' => 'application/octet-stream']);
is $r->{status}, 413, '1 MiB body over LimitRequestBody 65536 -> 413';
unlike $r->{body} // '', qr/X-Body-Md5/, '413 is Apache\'s own page';

$r = raw_request(undef, method => 'POST', path => '/limited/body',
                 chunked_body => [ map { 'y' x 10000 } 1 .. 10 ]);
is $r->{status}, 413, 'chunked 100 KB body over LimitRequestBody -> 413';

# the worker is fine afterwards
$r = raw_request(undef, method => 'POST', path => '/api/bodymd5', body => 'abc');
$j = eval { json_decode($r->{body}) } || {};
is $r->{status}, 200, 'next request -> 200';
is $j->{md5}, md5_hex('abc'), 'next request body intact';
