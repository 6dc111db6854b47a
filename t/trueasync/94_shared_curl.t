# 94. A CurlHandle made at worker boot and reused by every request (an
#     SDK's client: Stripe's CurlClient keeps one handle for keep-alive)
#     serves concurrent requests of one thread one at a time: each request
#     gets its own body, URL, status and errno, whatever write target it
#     set (CURLOPT_FILE, CURLOPT_WRITEFUNCTION, RETURNTRANSFER); the
#     Stripe-like curl_reset + curl_setopt_array + curl_exec + curl_getinfo
#     sequence keeps its own results; requests one after another reuse one
#     connection; a request whose client hangs up mid-transfer (the holder)
#     or while waiting leaves the handle usable; per-request handles still
#     overlap; a multi handle shared by the requests (and Symfony's
#     CurlHttpClient made at boot) gives each its own transfer; a fatal
#     error inside curl_exec() does not leave its waiters waiting. Before
#     the guard, concurrent requests got false with "easy handle already
#     used in multi handle" or "Failed initialization", another request's
#     URL and error, and each curl_exec() a new connection.
#     A private server, one PHP thread; a local keep-alive upstream whose
#     /echo answers "<id>|" repeated (16 KiB) in four parts over `ms`.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use IO::Socket::INET ();
use File::Temp qw(tempfile);
use POSIX ();
use TATest qw(parallel top_dir json_decode);
use TAServer;
use TAUpstream;

plan tests => 37;

# The upstream writes each request's id to $seen (one line each).
my (undef, $seen) = tempfile('ta-curl-seen-XXXXXX', TMPDIR => 1, UNLINK => 1);
sub body_of { my $id = shift; my $u = "$id|"; substr($u x (16384 / length($u) + 1), 0, 16384) }
my ($port, $upid) = TAUpstream::serve(sub {
    my ($c) = @_;
    alarm 60;                                       # a kept-alive connection ends with the test
    while (1) {                                     # keep-alive: requests until the client closes
        my $req = '';
        while ($req !~ /\r\n\r\n/) { my $n = sysread($c, my $buf, 4096); return unless $n; $req .= $buf }
        my ($path) = $req =~ m{^GET (\S+)};
        my ($hid) = $req =~ /^X-Id:\s*(\S+)/mi;
        my %q = map { split /=/, $_, 2 } split /&/, (($path // '') =~ /\?(.*)/)[0] // '';
        my $id = ($q{id} // '') . (defined $hid ? "/h$hid" : '');
        if (open my $fh, '>>', $seen) { print $fh "$id\n"; close $fh }
        if (open my $fh, '>>', "$seen.conn") { print $fh "$$ $id\n"; close $fh }   # one process per connection
        my $body = body_of($id);
        syswrite $c, "HTTP/1.1 200 OK\r\nContent-Length: 16384\r\nContent-Type: text/plain\r\n\r\n";
        for my $part (0 .. 3) {
            sleep(($q{ms} // 300) / 4000);
            syswrite($c, substr($body, $part * 4096, 4096)) or return;
        }
    }
});
END { TAUpstream::stop($upid) if $upid; unlink "$seen.conn" if $seen }

my $top = top_dir();
my $srv = TAServer->new(body => <<"CONF");
TrueAsyncWorker $top/t/php/shared_curl.php
TrueAsyncThreads 1
TrueAsyncBufferSize 32
<Location />
    SetHandler trueasync-worker
</Location>
CONF
$srv->start or die "server did not start:\n" . $srv->log_text;

sub get {
    my ($path, $timeout) = @_;
    my $r = $srv->get("$path&port=$port", $timeout || 30);
    my $j = eval { json_decode($r->{body} // '') };
    return ref $j ? $j : { status => $r->{status}, error => $r->{error}, raw => substr($r->{body} // '', 0, 300) };
}
sub url_of { my ($id, $ms) = @_; "http://127.0.0.1:$port/echo?id=$id&ms=" . ($ms // 300) }
sub own_ok {                                       # each result is its own request's, whole
    my ($res, $ids, $what, %o) = @_;
    my @bad = grep {
        my ($r, $id) = ($res->[$_], $ids->[$_]);
        !(ref $r eq 'HASH' && defined $r->{body} && $r->{body} eq body_of($o{hdr} ? "$id/h$id" : $id)
          && ($r->{errno} // -1) == 0 && ($r->{code} // 0) == 200 && ($r->{url} // '') eq url_of($id))
    } 0 .. $#$ids;
    ok !@bad, $what or diag explain [ map { { id => $ids->[$_], got => { %{ $res->[$_] }, body => substr($res->[$_]{body} // '', 0, 40) } } } @bad[0 .. ($#bad < 2 ? $#bad : 2)] ];
}
sub run_all { my ($paths, $t) = @_; parallel([ map { my $p = $_; sub { get($p) } } @$paths ], $t || 40) }

my $p = get('/ping?x=1');
ok $p->{pong} && $p->{same_handle}, 'the worker answers with its boot handle' or diag explain $p;

# 12 requests at once, each with its own URL on the one boot handle.
my @ids = map { "r$_" } 1 .. 12;
my $t0 = time;
my @res = run_all([ map { "/shared?id=$_" } @ids ]);
my $took = time - $t0;
own_ok \@res, \@ids, '12 concurrent requests on one boot CurlHandle: each its own body, effective URL, 200, errno 0';
ok $took > 12 * 0.3 * 0.9, sprintf('their transfers took turns on the handle (%.2f s for 12 x 300 ms)', $took);
sub connections {                                  # upstream connections that served these ids
    my %want = map { $_ => 1 } @_;
    open my $fh, '<', "$seen.conn" or return 0;
    my %pids = map { my ($pid, $id) = split ' '; $want{$id} ? ($pid => 1) : () } <$fh>;
    return scalar keys %pids;
}
# One request after another on the boot handle: one kept-alive connection
# (a multi handle per curl_exec() closed it every time: 5 connections).
@ids = map { "ka$_" } 1 .. 5;
@res = map { get("/shared?id=$_") } @ids;
own_ok \@res, \@ids, '5 requests one after another on the boot handle: their own results';
is connections(@ids), 1, 'and the handle kept its connection alive from one to the next (one connection for 5)';

# Each sets its own write target while other transfers run on the handle.
my @modes = qw(file fn ret);
@ids = map { "m$_" } 1 .. 12;
@res = run_all([ map { "/shared?id=$ids[$_]&mode=$modes[$_ % 3]" } 0 .. $#ids ]);
own_ok [ @res[grep { $_ % 3 == 0 } 0 .. 11] ], [ @ids[grep { $_ % 3 == 0 } 0 .. 11] ],
    'CURLOPT_FILE set by a request while others transfer: its file has only its own response';
own_ok [ @res[grep { $_ % 3 == 1 } 0 .. 11] ], [ @ids[grep { $_ % 3 == 1 } 0 .. 11] ],
    'CURLOPT_WRITEFUNCTION set by a request while others transfer: its callback sees only its own data';
own_ok [ @res[grep { $_ % 3 == 2 } 0 .. 11] ], [ @ids[grep { $_ % 3 == 2 } 0 .. 11] ],
    'RETURNTRANSFER requests among them: their own bodies';

# Failures and successes at once: each request reads its own error.
my @mixed = map { $_ % 2 ? "/shared?id=ok$_" : "/shared?id=bad$_&url=" . 'http://127.0.0.1:1/refused' } 1 .. 10;
@res = run_all(\@mixed);
my @okr = @res[grep { $_ % 2 == 0 } 0 .. 9];
my @badr = @res[grep { $_ % 2 == 1 } 0 .. 9];
own_ok \@okr, [ map { "ok$_" } grep { $_ % 2 } 1 .. 10 ], 'successes among refused connections: own bodies, errno 0';
is scalar(grep { ($_->{errno} // 0) == 7 && ($_->{error} // '') =~ /connect/i && ($_->{body} // 1) eq '0'
                 && ($_->{url} // '') eq 'http://127.0.0.1:1/refused' } @badr), 5,
    'each refused request sees its own error (errno 7, its URL), not another request\'s'
    or diag explain \@badr;

# Stripe's CurlClient sequence on a second boot handle.
@ids = map { "s$_" } 1 .. 10;
@res = run_all([ map { "/stripe?id=$_" } @ids ]);
own_ok \@res, \@ids, 'curl_reset + curl_setopt_array + curl_exec + curl_getinfo: each its own body, header, URL, code', hdr => 1;

# Child coroutines of one request share the boot handle as well.
my $ch = get('/children?id=k&n=4');
own_ok(ref $ch eq 'ARRAY' ? $ch : [$ch], [ map { "k-$_" } 1 .. 4 ], 'four child coroutines of one request: each its own result');

# A holder whose client hangs up mid-transfer, a waiter whose client hangs
# up in the queue, and three waiters behind them.
sub hangup {
    my ($path, $after) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $srv->port, Timeout => 5) or die "connect: $!";
    syswrite $s, "GET $path&port=$port HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    return $s;
}
truncate $seen, 0;
$t0 = time;
my $kid = fork // die "fork: $!";
if (!$kid) {
    my $holder = hangup('/shared?id=holder&ms=5000');
    sleep 0.15;
    my $gone = hangup('/shared?id=gone');
    sleep 0.3;
    close $gone;                                # while it waits for the handle
    sleep 0.45;
    close $holder;                              # mid-transfer
    POSIX::_exit(0);
}
sleep 0.3;
my @waiters = map { "w$_" } 1 .. 3;
@res = parallel([ map { my $i = $_; sub { sleep 0.05 * $i; get("/shared?id=$waiters[$i]") } } 0 .. 2 ], 40);
my $wtook = time - $t0;
waitpid $kid, 0;
own_ok \@res, \@waiters, 'waiters behind a holder whose client hung up mid-transfer: their own results';
ok $wtook < 4, sprintf('they ran once the holder was cancelled (%.2f s; its transfer: 5 s)', $wtook);
my @order = do { open my $fh, '<', $seen or die; map { chomp; $_ } <$fh> };
ok !grep({ $_ eq 'gone' } @order), 'the waiter whose client hung up left the queue: its transfer never ran'
    or diag explain \@order;
is_deeply [ grep { /^w/ } @order ], \@waiters, 'the waiters ran in arrival order';
@ids = map { "after$_" } 1 .. 3;
@res = run_all([ map { "/shared?id=$_" } @ids ]);
own_ok \@res, \@ids, 'the handle still serves afterwards';
@res = run_all([ map { "/stripe?id=a$_" } 1 .. 2 ]);
own_ok \@res, [ 'a1', 'a2' ], 'and so does the other boot handle', hdr => 1;

# Per-request handles still overlap on the one thread.
@ids = map { "o$_" } 1 .. 10;
$t0 = time;
@res = run_all([ map { "/own?id=$_" } @ids ]);
$took = time - $t0;
own_ok \@res, \@ids, 'per-request handles: own results';
ok $took < 1.5, sprintf('and they ran at once (%.2f s for 10 x 300 ms on one thread)', $took);

# A multi handle made at boot, driven by each request for its own transfer.
@ids = map { "x$_" } 1 .. 6;
$t0 = time;
@res = run_all([ map { "/multi?id=$_" } @ids ]);
$took = time - $t0;
is scalar(grep { ($_->{add} // -1) == 0 } @res), 6, 'shared multi: each request added its own handle' or diag explain \@res;
is scalar(grep { ($_->{result} // -1) == 0 && ($_->{code} // 0) == 200 } @res), 6,
    'shared multi: each request saw its own transfer complete' or diag explain \@res;
is_deeply [ map { $_->{body} // '' } @res ], [ map { body_of($_) } @ids ], 'shared multi: each its own body';
ok $took < 2.5, sprintf('shared multi: the transfers overlapped (%.2f s for 6 x 300 ms)', $took);

# Callbacks that wait inside curl_multi_exec(): the other drivers' calls
# wait for them rather than fail (CURLM_RECURSIVE_API_CALL before).
@ids = map { "y$_" } 1 .. 4;
@res = run_all([ map { "/multi?id=$_&wait=1" } @ids ]);
is_deeply [ map { $_->{body} // '' } @res ], [ map { body_of($_) } @ids ],
    'shared multi, callbacks that wait: each its own body';
is_deeply [ map { @{ $_->{exec_errors} // ['none'] } } @res ], [], 'and no curl_multi_exec() failed meanwhile'
    or diag explain [ map { $_->{exec_errors} } @res ];

# A slow transfer on the shared multi does not hold up the others'.
@res = parallel([ sub { get('/multi?id=slow&ms=2500') },
                  map { my $i = $_; sub { sleep 0.2; get("/multi?id=f$i") } } 1 .. 4 ], 40);
is_deeply [ map { $_->{body} // '' } @res ], [ map { body_of($_) } 'slow', map { "f$_" } 1 .. 4 ],
    'a slow and four quick transfers on the shared multi: each its own body';
is scalar(grep { ($_->{ms} // 1e9) < 1500 } @res[1 .. 4]), 4,
    'the quick ones were done long before the slow one (curl_multi_select() holds nothing)'
    or diag explain [ map { $_->{ms} } @res ];

# Symfony's CurlHttpClient made at boot (when Debian's package is there).
SKIP: {
    skip 'php-symfony-http-client is not installed', 2 unless $p->{symfony};
    @ids = map { "sf$_" } 1 .. 10;
    $t0 = time;
    @res = run_all([ map { "/symfony?id=$_" } @ids ]);
    $took = time - $t0;
    own_ok \@res, \@ids, 'Symfony CurlHttpClient made at boot, 10 concurrent requests: each its own response', hdr => 1;
    ok $took < 2, sprintf('and they overlapped on its one multi handle (%.2f s for 10 x 300 ms)', $took);
}

# A fatal error in a write callback during curl_exec() on a third boot
# handle: its waiters are not left waiting, the log says why that handle
# fails from then on, and the thread goes on.
$t0 = time;
my @fz = parallel([ sub { $srv->get("/fatal?id=fz&ms=1200&port=$port", 20) },
                    map { my $i = $_; sub { sleep 0.1 * $i; get("/victim?id=fw$i") } } 1 .. 2 ], 40);
is $fz[0]{status}, 500, 'a fatal error inside curl_exec()\'s callback: that request fails';
ok +(grep { defined $_->{errno} } @fz[1, 2]) == 2 && time - $t0 < 5,
    sprintf('its waiters got the handle and answered (%.2f s; libcurl\'s error for a handle left in a callback: %s)',
            time - $t0, $fz[1]{error} // '?') or diag explain \@fz;
like $srv->log_text, qr/TA00881: GET \/fatal\?id=fz\S*: a fatal error inside curl_exec\(\)/, 'TA00881 names the request and the call';
@res = run_all([ "/own?id=fo", "/shared?id=fs" ]);
own_ok \@res, [ 'fo', 'fs' ], 'the thread goes on: a per-request handle and the other boot handle serve';

# Outside coroutines nothing changed, and nothing crashed.
my $log = $srv->log_text;
unlike $log, qr/Segmentation fault|AH00052|exit signal/, 'no child crashed';
my @php = grep { !/Allowed memory size/ } $log =~ /^.*PHP (?:Fatal|Warning).*$/mg;
is_deeply \@php, [], 'no PHP warning or fatal error but the one made on purpose' or diag $log;
my $last = get('/shared?id=last');
own_ok [ $last ], [ 'last' ], 'a last request on the boot handle';
undef $srv;                                        # stopped while its directory exists
