# HTTP/2 (h2c with prior knowledge, via curl): the worker sees protocol
# version "2", bodies go through intact and write() still streams.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use File::Temp qw(tempfile);
use Time::HiRes qw(time);
use TATest qw(hostport json_decode);

plan tests => 9;

my $curl = (grep { -x } map { "$_/curl" } split /:/, $ENV{PATH} || '/usr/bin')[0];
ok $curl, 'curl is installed (needed to speak h2c)';
$curl ||= 'curl';

my ($h, $p) = hostport('trueasync_h2');
my $base = "http://$h:$p";

sub curl_h2 {
    my @args = @_;
    open my $fh, '-|', $curl, '-s', '--max-time', '20', '--http2-prior-knowledge', @args
        or return '';
    local $/; my $out = <$fh>; close $fh;
    return $out // '';
}

my $out = curl_h2('-w', '\n%{http_version} %{http_code}', "$base/api/req?x=h2");
my ($json, $ver, $code) = $out =~ /\A(.*)\n(\S+) (\d+)\z/s;
is "$ver $code", '2 200', 'request over HTTP/2 -> 200' or diag $out;
my $j = eval { json_decode($json // '') } || {};
is $j->{proto}, 'HTTP/2.0', 'getProtocolVersion() is "HTTP/2.0" (as FrankenPHP)';
is $j->{query}{x}, 'h2', 'query params over h2';

# 1 MiB body over h2
my ($fh, $file) = tempfile(UNLINK => 1);
my $data = join '', map { chr(int rand 256) } 1 .. 1024 * 1024;
binmode $fh; print $fh $data; close $fh;
$out = curl_h2('-H', 'Content-Type: application/octet-stream', '--data-binary', "\@$file",
               "$base/api/bodymd5");
$j = eval { json_decode($out) } || {};
is $j->{len}, 1024 * 1024, '1 MiB POST over h2: length';
is $j->{md5}, md5_hex($data), '1 MiB POST over h2: md5';

# streaming over h2: lines arrive ~150 ms apart
my $t0 = time;
my @arrivals;
if (open my $s, '-|', $curl, '-s', '-N', '--max-time', '20', '--http2-prior-knowledge',
        "$base/api/stream?n=5&gap=150") {
    while (my $line = <$s>) { push @arrivals, [time - $t0, $line] }
    close $s;
}
is scalar(@arrivals), 5, 'five streamed lines over h2';
my $total = time - $t0;
ok @arrivals && $arrivals[0][0] < $total - 0.5,
   sprintf('first line arrived well before the end (%.3f of %.3f s)', $arrivals[0][0] // -1, $total);
my @gaps = map { $arrivals[$_][0] - $arrivals[$_-1][0] } 1 .. $#arrivals;
is scalar(grep { $_ >= 0.09 } @gaps), 4, 'lines arrived spread out (4 gaps >= 90 ms)'
    or diag "gaps: @gaps";
