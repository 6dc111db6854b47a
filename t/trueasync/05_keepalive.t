# 4. Keep-alive: several requests (and a pipelined burst) on one connection,
#    including chunked (streamed) and fixed-length responses.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use TATest qw(json_decode);

plan tests => 21;

my $tag = "ka-$$-" . int(rand 1e9);
my $c = TATest::Conn->new(undef);
my @T = ('X-Conn-Tag' => $tag);

for my $i (1 .. 3) {
    $c->send_request(path => "/api/req?n=$i", headers => \@T);
    my $r = $c->read_response;
    is $r->{status}, 200, "request $i on the same connection -> 200";
    my $j = eval { json_decode($r->{body}) } || {};
    is $j->{query}{n}, $i, "request $i: own response body";
    unlike TATest::Conn::hdr($r, 'Connection') // '', qr/close/i,
           "request $i: server keeps the connection open";
}

my $body = join '', map { chr(($_ * 7) % 256) } 1 .. 5000;
$c->send_request(method => 'POST', path => '/api/bodymd5', body => $body,
                 headers => ['Content-Type' => 'application/octet-stream', @T]);
my $r = $c->read_response;
is $r->{status}, 200, 'POST on the same connection -> 200';
my $j = eval { json_decode($r->{body}) } || {};
is $j->{md5}, md5_hex($body), 'POST body intact on a kept-alive connection';

$c->send_request(path => '/api/stream?n=3&gap=20', headers => \@T);
$r = $c->read_response;
is $r->{status}, 200, 'streamed response on the same connection';
ok $r->{chunked}, 'streamed response is chunked';
is scalar(() = $r->{body} =~ /chunk-\d/g), 3, 'three streamed chunks';

$c->send_request(path => '/api/req?n=after-stream', headers => \@T);
$r = $c->read_response;
$j = eval { json_decode($r->{body}) } || {};
is $j->{query}{n}, 'after-stream', 'connection usable after a chunked response';

# pipelined: three requests written at once, answered in order
$c->send_request(path => "/api/sleep?ms=100&id=p1", headers => \@T);
$c->send_request(path => "/api/sleep?ms=10&id=p2", headers => \@T);
$c->send_request(path => "/api/req?n=p3", headers => \@T);
my @p = map { $c->read_response } 1 .. 3;
like $p[0]{body} // '', qr/id=p1/, 'pipelined response 1 in order';
like $p[1]{body} // '', qr/id=p2/, 'pipelined response 2 in order';
$j = eval { json_decode($p[2]{body}) } || {};
is $j->{query}{n}, 'p3', 'pipelined response 3 in order';

ok !$c->peer_closed, 'server did not close the connection';
$c->close;

# The server's own view (mod_log_config %k = keep-alive requests handled on
# this connection before this one): 0, 1, 2, ... for our tagged requests.
my @k;
for (1 .. 30) {
    @k = ();
    if (open my $fh, '<', Apache::Test::vars('t_logs') . '/keepalive_log') {
        while (<$fh>) { push @k, $1 if /^(\d+) \Q$tag\E / }
    }
    last if @k >= 9;
    select undef, undef, undef, 0.1;
}
is scalar(@k), 9, 'server logged all 9 tagged requests';
is "@k", join(' ', 0 .. 8), 'server served them as keep-alive requests 0..8 of one connection';
