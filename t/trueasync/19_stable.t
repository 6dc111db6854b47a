# 18. TrueAsyncThreads 4 under concurrent load: 8 parallel clients x 25
#     requests (keep-alive and fresh connections mixed), all 200 with the
#     right body.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use Time::HiRes qw(time);
use TATest qw(raw_request parallel);

plan tests => 4;

my $V = 'trueasync_stable';
my ($C, $N) = (8, 25);

my $t0 = time;
my @res = parallel([ map { my $client = $_; sub {
    my ($ok, $bad, @errors) = (0, 0);
    my $conn;
    for my $i (1 .. $N) {
        my $n = "c${client}r$i";
        my $ms = $i % 5 == 0 ? 20 : 0;
        # odd clients reuse one keep-alive connection, even ones reconnect
        $conn = undef if $client % 2 == 0 || ($conn && $conn->peer_closed);
        $conn ||= TATest::Conn->new($V);
        $conn->send_request(path => "/?n=$n&ms=$ms");
        my $r = $conn->read_response(timeout => 20);
        my $want = "n=$n md5=" . md5_hex("trueasync-$n") . "\n" . ("$n," x 100) . "\n";
        if (($r->{status} // 0) == 200 && $r->{body} eq $want
            && (TATest::Conn::hdr($r, 'X-N') // '') eq $n) {
            $ok++;
        } else {
            $bad++;
            push @errors, "$n: " . ($r->{status} // 'no status') . ' ' . ($r->{error} // '')
                if @errors < 3;
            $conn = undef;
        }
    }
    return { ok => $ok, bad => $bad, errors => \@errors };
} } 1 .. $C ], 60);
my $elapsed = time - $t0;

my $ok  = 0; $ok  += $_->{ok}  // 0 for @res;
my @client_errors = map { $_->{error} // () } @res;   # died / timed out
is $ok, $C * $N, sprintf('%d of %d requests returned 200 with the correct body (%.2f s)', $ok, $C * $N, $elapsed);
ok !@client_errors && $elapsed < 30, 'every client finished in time'
    or diag explain [ @client_errors, map { @{ $_->{errors} || [] } } @res ];

# the pool is still healthy afterwards
my $r = raw_request($V, path => '/?n=final');
is $r->{status}, 200, 'request after the load -> 200';
is $r->{body}, "n=final md5=" . md5_hex('trueasync-final') . "\n" . ('final,' x 100) . "\n", '... correct body';
