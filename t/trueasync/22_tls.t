# 22. mod_ssl keeps working in front of the worker: a request over TLS gets
#     the PHP response, getScheme() says "https", a 1 MiB body survives the
#     round trip, and HTTP/2 negotiated by ALPN over TLS works too.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use File::Temp qw(tempfile);
use TATest qw(hostport json_decode);

plan tests => 7;

my ($host, $port) = hostport('trueasync_tls');
my $base = "https://127.0.0.1:$port";

sub curl {
    my @args = @_;
    open(my $fh, '-|', 'curl', '-sk', '--max-time', '10', @args) or die "curl: $!";
    local $/;
    my $out = <$fh>;
    close $fh;
    return ($out // '', $? >> 8);
}

my ($body, $rc) = curl('-w', '\n%{http_code} %{http_version}', '--http1.1', "$base/api/req");
is $rc, 0, 'curl over TLS succeeded';
my ($json, $status) = $body =~ /\A(.*)\n(\d+ [\d.]+)\z/s;
is $status, '200 1.1', 'HTTP/1.1 over TLS -> 200';
my $j = eval { json_decode($json) } || {};
is $j->{scheme}, 'https', 'getScheme() is https behind mod_ssl';

($body, $rc) = curl('-w', '\n%{http_code} %{http_version}', '--http2', "$base/api/req");
my ($json2, $status2) = $body =~ /\A(.*)\n(\d+ [\d.]+)\z/s;
is $status2 // '', '200 2', 'HTTP/2 over TLS (ALPN) -> 200';
my $j2 = eval { json_decode($json2) } || {};
is $j2->{proto}, 'HTTP/2.0', 'getProtocolVersion() is HTTP/2.0 over TLS';

my $data = join '', map { chr(int(rand(256))) } 1 .. (1 << 20);
my ($fh, $file) = tempfile(UNLINK => 1);
binmode $fh;
print $fh $data;
close $fh;
($body, $rc) = curl('--http1.1', '--data-binary', "\@$file", '-H', 'Content-Type: application/octet-stream',
                    "$base/api/body");
is length($body), length($data), '1 MiB body echoed over TLS: length';
is md5_hex($body), md5_hex($data), '1 MiB body echoed over TLS: content';
