# Nothing lost on restart or stop (a private Apache: one child, 2 PHP
# threads, a PHP route and a mod_proxy route to a slow upstream in the same
# child). graceful: in-flight PHP and proxied requests complete, new
# children run the worker script as it is on disk now. graceful-stop with
# GracefulShutdownTimeout: what finishes in time completes, the rest is
# cancelled when the timeout runs out (finally blocks run, the client sees a
# clean close). stop: in-flight requests are cancelled the same way and the
# server is gone within seconds. PHP never takes Apache's signals.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use TATest qw(parallel top_dir);
use TAServer;
use TAUpstream;

plan tests => 29;

my $top = top_dir();
my $work = tempdir('ta-graceful-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0777, $work;
my $worker = "$work/worker.php";
my $flog = "$work/finally.log";
sub set_version {
    my $v = shift;
    open my $in, '<', "$top/t/php/graceful.php" or die $!;
    local $/; my $src = <$in>;
    $src =~ s/const VERSION = 'v1'/const VERSION = '$v'/ or die 'no VERSION';
    open my $out, '>', "$worker.tmp" or die $!;
    print $out $src; close $out;
    chmod 0644, "$worker.tmp";
    rename "$worker.tmp", $worker or die $!;
}
sub finally_count {
    my $id = shift;
    open my $fh, '<', $flog or return 0;
    return scalar grep { /^finally \Q$id\E$/ } <$fh>;
}
set_version('v1');
open my $fh, '>', $flog or die $!; close $fh; chmod 0666, $flog;

my ($up_port, $up_pid) = TAUpstream::serve(sub {
    my $c = shift;
    TAUpstream::read_path($c);
    sleep 2;
    syswrite $c, "HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nproxied";
});

sub server {
    my $extra = shift // '';
    my $srv = TAServer->new(modules => [qw(proxy proxy_http)], body => <<"CONF");
TrueAsyncWorker $worker
TrueAsyncThreads 2
$extra
<Location />
    SetHandler trueasync-worker
</Location>
<Location /proxy>
    SetHandler none
    ProxyPass http://127.0.0.1:$up_port/
</Location>
CONF
    return $srv;
}

# ---- graceful restart
$ENV{TA_GRACEFUL_LOG} = $flog;
my $srv = server();
ok $srv->start, 'private server starts';
like $srv->get('/')->{body}, qr/^v1 /, 'it serves the worker (v1)';
my $t0 = time;
my @res = parallel([
    (map { my $i = $_; sub { $srv->get("/slow?ms=3000&id=g$i", 20) } } 1 .. 4),
    sub { $srv->get('/proxy/x', 20) },
    sub { sleep 0.7; set_version('v2'); TAServer::ctl($srv, 'graceful') ? { ok => 1 } : { ok => 0 } },
], 30);
my $ctl = pop @res;
my $proxied = pop @res;
ok $ctl->{ok}, 'apachectl -k graceful ran';
is scalar(grep { $_->{status} == 200 && $_->{complete} && $_->{body} =~ /^v1 done/ } @res), 4,
    'graceful: the 4 PHP requests in flight complete with 200 (old worker)'
    or diag explain \@res;
cmp_ok time - $t0, '>=', 2.9, '... after their full 3 s';
is finally_count("g$_"), 1, "graceful: finally of request $_ ran once" for 1 .. 4;
ok $proxied->{status} == 200 && $proxied->{body} eq 'proxied', 'graceful: the proxied request in flight completes'
    or diag explain $proxied;
my $v2;
for (1 .. 50) { my $r = $srv->get('/'); if (($r->{body} // '') =~ /^v2 /) { $v2 = 1; last } sleep 0.2 }
ok $v2, 'after the graceful restart the new child runs the worker as it is on disk (v2)';
like $srv->log_text, qr/stopping gracefully: \d+ PHP request/, 'the graceful stop is logged';
unlike $srv->log_text, qr/exit signal/, 'no child died of a signal';
ok $srv->ctl('stop') && $srv->wait_gone(15), 'stopped';

# ---- graceful-stop with GracefulShutdownTimeout 2
set_version('v1');
$srv = server("GracefulShutdownTimeout 2");
ok $srv->start, 'server with GracefulShutdownTimeout 2 starts';
$t0 = time;
@res = parallel([
    sub { $srv->get('/slow?ms=1000&id=s1', 20) },
    sub { $srv->get('/slow?ms=15000&id=s2', 20) },
    sub { sleep 0.5; TAServer::ctl($srv, 'graceful-stop') ? { ok => 1 } : { ok => 0 } },
], 30);
pop @res;
ok $res[0]{status} == 200 && $res[0]{complete}, 'graceful-stop: a request that ends in time completes'
    or diag explain $res[0];
ok !$res[1]{error} && ($res[1]{status} == 503 || $res[1]{status} == 0),
    'graceful-stop: a longer one ends with 503 or a clean close, not a hang' or diag explain $res[1];
cmp_ok time - $t0, '<', 8, '... soon after the timeout';
is finally_count('s2'), 1, 'graceful-stop: the cancelled request ran its finally block';
like $srv->log_text, qr/GracefulShutdownTimeout \(2 s\) has passed; cancelling 1 PHP request/,
    'the timeout and what it cancelled are logged';
ok $srv->wait_gone(15), 'the server is gone';

# ---- restart (ungraceful): in-flight requests are cancelled, the server goes on
$srv = server();
ok $srv->start, 'server starts again';
my $pid1 = ($srv->get('/')->{body} // '') =~ /pid=(\d+)/ ? $1 : 0;
@res = parallel([
    sub { $srv->get('/slow?ms=15000&id=r1', 20) },
    sub { sleep 0.5; TAServer::ctl($srv, 'restart') ? { ok => 1 } : { ok => 0 } },
], 30);
ok !$res[0]{error} && !($res[0]{status} == 200 && $res[0]{complete}), 'restart: the request in flight ends (no hang)';
is finally_count('r1'), 1, 'restart: it was cancelled and ran its finally block';
my $pid2;
for (1 .. 50) { my $b = $srv->get('/')->{body} // ''; if ($b =~ /pid=(\d+)/ && $1 != $pid1) { $pid2 = $1; last } sleep 0.2 }
ok $pid2, 'restart: a new child serves afterwards';

# ---- stop, with one request waiting and one running code that never suspends
@res = parallel([
    sub { $srv->get('/slow?ms=15000&id=k1', 20) },
    sub { $srv->get('/spin?ms=15000&id=k2', 20) },
    sub { sleep 0.7; my $t = time; TAServer::ctl($srv, 'stop'); { ok => $srv->wait_gone(15) ? 1 : 0, t => time - $t } },
], 30);
ok $res[2]{ok} && $res[2]{t} < 5, "stop: the server is gone in $res[2]{t} s";
is finally_count('k1'), 1, 'stop: the waiting request was cancelled and ran its finally block';
is finally_count('k2'), 1, 'stop: the request busy in PHP code was interrupted and ran its finally block';
like $srv->log_text, qr/stopping now: cancelling 2 PHP request/, 'the cancellation is logged';

TAUpstream::stop($up_pid);
