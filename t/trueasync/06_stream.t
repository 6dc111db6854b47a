# 5. Streaming: write() x5 with Async\delay(150) between, then end().
#    Each write must reach the client as its own HTTP/1.1 chunk when it is
#    written, not when end() is called.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use TATest qw(raw_request);

plan tests => 13;

my $c = TATest::Conn->new(undef);     # connect first: time only the exchange
my $t0 = time;
$c->send_request(path => '/api/stream?n=5&gap=150');
my $r = $c->read_response(timeout => 10);
$c->close;
is $r->{error}, undef, 'response framed correctly';
is $r->{status}, 200, 'status 200';
like TATest::Conn::hdr($r, 'Transfer-Encoding') // '', qr/chunked/i,
     'Transfer-Encoding: chunked';
ok !defined TATest::Conn::hdr($r, 'Content-Length'), 'no Content-Length';

my @chunks = @{ $r->{chunks} };
is scalar(@chunks), 5, 'five HTTP chunks'
    or diag explain [ map { $_->{data} } @chunks ];
my @labels = map { ($_->{data} =~ /^(chunk-\d+) t=[\d.]+\n\z/) ? $1 : 'BAD' } @chunks;
is "@labels", 'chunk-1 chunk-2 chunk-3 chunk-4 chunk-5',
   'each chunk is exactly one write(), in order';

my $total = $r->{t_end} - $t0;
my @t = map { $_->{t} - $t0 } @chunks;
diag sprintf "arrivals: %s; terminal chunk: %.3f", join(' ', map { sprintf '%.3f', $_ } @t), $total;

ok $total >= 0.7, sprintf('whole response took >= 0.7 s (%.3f s)', $total);
ok defined $t[0] && $t[0] < 0.1,
   sprintf('first chunk arrived early (%.3f s)', $t[0] // -1);
ok defined $t[0] && $t[0] < $total - 0.5,
   'first chunk arrived well before the end of the response';

my @gaps = map { $t[$_] - $t[$_-1] } 1 .. $#t;
my $spread = grep { $_ >= 0.09 } @gaps;
is $spread, 4, 'consecutive chunks arrived ~150 ms apart (4 gaps >= 90 ms)'
    or diag "gaps: @gaps";

# the fifth chunk arrived before end() (end() comes 150 ms after write 5)
ok defined $t[4] && $t[4] < $total - 0.09,
   'last write() arrived before end() finished the response';

# PHP-side timestamps of the writes vs arrival: arrival within 100 ms
my @php = map { ($_->{data} =~ /t=([\d.]+)/)[0] } @chunks;
my $late = grep { defined $php[$_] && $chunks[$_]{t} - $php[$_] > 0.1 } 0 .. $#chunks;
is $late, 0, 'every chunk reached the client within 100 ms of its write()';

# A handler that writes once and ends without waiting in between: Apache
# is told once, with the whole response, and sends it with Content-Length.
$c = TATest::Conn->new(undef);
$c->send_request(path => '/api/req?n=whole');
$r = $c->read_response(timeout => 10);
$c->close;
ok !defined TATest::Conn::hdr($r, 'Transfer-Encoding') && (TATest::Conn::hdr($r, 'Content-Length') // -1) == length($r->{body}),
   sprintf('write() then end(): Content-Length %s, not chunked', TATest::Conn::hdr($r, 'Content-Length') // 'none');
