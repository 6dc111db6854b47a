# The status page (issue 12): SetHandler trueasync-status serves, from
# shared memory, every child's workers and PHP threads as HTML, JSON and the
# Prometheus text format; mod_status gets a section and ?auto lines. The
# suite's server has one child; a private server with two children shows
# both, whichever child answers, and a Prometheus server scraping it every
# second reports the request count the test made.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(time sleep);
use TATest qw(raw_request json_decode top_dir);
use TAServer;

plan tests => 32;

my $top = top_dir();
sub status { my $r = raw_request(undef, path => "/trueasync-status$_[0]", timeout => 10); $r }
sub json_status { my $r = status('?json'); eval { json_decode($r->{body}) } }
sub worker_of {
    my ($j, $script) = @_;
    for my $w (@{ $j->{children}[0]{workers} }) { return $w if $w->{worker} =~ m{/\Q$script\E$} }
    return undef;
}
sub served { my $w = worker_of(json_status(), $_[0]) or return -1; my $n = 0; $n += $_->{requests_total} for @{ $w->{threads} }; $n }

# ---- JSON on the suite's server
my $r = status('?json');
is $r->{status}, 200, '?json: 200';
like TATest::Conn::hdr($r, 'Content-Type') // '', qr{^application/json}, '... as application/json';
my $j = eval { json_decode($r->{body}) };
ok $j, '... and it parses' or diag $@;
is scalar(@{ $j->{children} || [] }), 1, 'one child (the suite runs one)';
my %conf_scripts;
open my $ec, '<', "$top/t/conf/extra.conf.in" or die $!;
while (<$ec>) { $conf_scripts{$1} = 1 if m{^\s*TrueAsyncWorker \@ServerRoot\@/php/(\S+)} }
my %seen = map { ($_->{worker} =~ m{/php/(\S+)$})[0] => scalar @{ $_->{threads} } } @{ $j->{children}[0]{workers} };
is_deeply [sort keys %seen], [sort keys %conf_scripts], 'every worker of the configuration is listed';
is $seen{'stable.php'}, 4, '... each with its threads (stable.php: TrueAsyncThreads 4)';
my ($cfg) = grep { $_->{script} =~ /timeout\.php$/ } @{ $j->{workers} };
is $cfg->{config}{TrueAsyncRequestTimeout}, 1, 'the directives are shown (TrueAsyncRequestTimeout 1 of timeout.php)';
# TrueAsyncMaxConcurrency: the directive (0: auto) and the limit each thread has in force
my ($c4) = grep { $_->{script} =~ /frankenphp_loop4\.php$/ } @{ $j->{workers} };
is $c4->{config}{TrueAsyncMaxConcurrency}, 4, 'TrueAsyncMaxConcurrency 4 is shown';
my %most = map { (($_->{worker} =~ m{/php/(\S+)$})[0] => $_->{threads}[0]{max_concurrency}) } @{ $j->{children}[0]{workers} };
is_deeply [@most{qw(frankenphp_loop.php frankenphp_loop4.php overlap.php)}], [1, 4, 0],
    'in force: 1 for a frankenphp_handle_request() loop (auto), 4 as set, no limit (0) for onRequest()';

my $before = served('maxwait.php');
raw_request('trueasync_maxwait', path => '/', timeout => 10) for 1 .. 3;
my $after = -1;
for (1 .. 20) { $after = served('maxwait.php'); last if $after >= $before + 3; sleep 0.1 }
is $after, $before + 3, 'requests_total counts the requests a thread served';

my $full0 = worker_of(json_status(), 'busy.php')->{rejected}{queues_full};
my $hold = TATest::Conn->new('trueasync_busy');
$hold->send_request(path => '/hold?ms=800');
sleep 0.3;
my $refused = raw_request('trueasync_busy', path => '/', timeout => 10);
$hold->read_response(timeout => 10);
is $refused->{status}, 503, 'a full queue gives 503';
is worker_of(json_status(), 'busy.php')->{rejected}{queues_full}, $full0 + 1, '... counted as queues_full';

my $bf = worker_of(json_status(), 'boot_fail.php')->{threads}[0];
like $bf->{state}, qr/^(failed|booting)$/, 'a worker that never boots is shown failed';
like $bf->{last_boot_error} // '', qr/boot failed on purpose/, '... with its last boot error';
my $un0 = worker_of(json_status(), 'boot_fail.php')->{rejected}{unavailable};
raw_request('trueasync_bootfail', path => '/', timeout => 10);
my $un1 = worker_of(json_status(), 'boot_fail.php')->{rejected}{unavailable};
ok $un1 == $un0 + 1 || worker_of(json_status(), 'boot_fail.php')->{threads}[0]{state} eq 'booting',
    "... and its 503s are counted as unavailable ($un0 -> $un1)";

# ---- HTML and Prometheus
$r = status('');
like $r->{body} // '', qr{<table.*/php/timeout\.php.*</table>}s, 'HTML: a table per worker';
$r = status('?prometheus');
my @bad = grep { !/^#/ && !/^trueasync_\w+(\{(\w+="(?:[^"\\]|\\.)*",?)+\})? -?[\d.e+]+$/ } split /\n/, $r->{body} // '';
ok !@bad && length($r->{body} // ''), '?prometheus: every sample line is well formed' or diag explain [@bad[0 .. 4]];
my ($pline) = ($r->{body} // '') =~ /^(trueasync_requests_total\{worker="[^"]*\/maxwait\.php",pid="\d+",thread="0"\} \d+)$/m;
ok $pline, '... with requests_total per worker, child pid and thread' or diag $r->{body};
my ($inf) = ($r->{body} // '') =~ /trueasync_request_duration_seconds_bucket\{worker="[^"]*\/maxwait\.php",pid="\d+",le="\+Inf"\} (\d+)/;
my ($cnt) = ($r->{body} // '') =~ /trueasync_request_duration_seconds_count\{worker="[^"]*\/maxwait\.php",pid="\d+"\} (\d+)/;
ok defined $inf && $inf == $cnt && $cnt >= 3, "... and the duration histogram (+Inf bucket $inf = count)";
SKIP: {
    skip 'promtool is not installed (Debian: prometheus)', 1 unless -x '/usr/bin/promtool';
    my $f = tempdir(CLEANUP => 1) . '/metrics';
    open my $fh, '>', $f or die $!; print $fh $r->{body}; close $fh;
    my $out = `/usr/bin/promtool check metrics < $f 2>&1`;
    is $?, 0, 'promtool check metrics accepts it' or diag $out;
}

# ---- mod_status
$r = raw_request(undef, path => '/server-status', timeout => 10);
like $r->{body} // '', qr{<h2>TrueAsync</h2>}, 'mod_status: /server-status has a TrueAsync section';
$r = raw_request(undef, path => '/server-status?auto', timeout => 10);
like $r->{body} // '', qr/^TrueAsyncRequests: \d+$/m, '... and ?auto machine-readable lines';

# ---- two children
my $srv = TAServer->new(modules => ['status', 'authz_host'], mpm => <<'MPM', body => <<"CONF");
StartServers 2
ServerLimit 2
ThreadsPerChild 8
ThreadLimit 8
MaxRequestWorkers 16
MinSpareThreads 16
MaxSpareThreads 32
MPM
TrueAsyncWorker $top/t/php/guide.php
TrueAsyncThreads 2
<Location />
    SetHandler trueasync-worker
</Location>
<Location /trueasync-status>
    SetHandler trueasync-status
    Require local
</Location>
CONF
ok $srv->start, 'a server with two children starts';
my $sj;
for (1 .. 100) {
    $sj = eval { json_decode($srv->get('/trueasync-status?json')->{body}) };
    last if $sj && @{ $sj->{children} } == 2 && !grep { $_->{state} ne 'ready' } map { @{ $_->{workers}[0]{threads} } } @{ $sj->{children} };
    sleep 0.1;
}
my @pids = map { $_->{pid} } @{ $sj->{children} || [] };
is scalar(@pids), 2, 'JSON lists both children';
ok $pids[0] != $pids[1] && kill(0, @pids) == 2, '... two live processes';
is_deeply [map { scalar @{ $_->{workers}[0]{threads} } } @{ $sj->{children} }], [2, 2], '... each with its 2 threads';
is $sj->{workers}[0]{config}{TrueAsyncBufferSize}, 4,
    'an unset TrueAsyncBufferSize fits ThreadsPerChild: 8 Apache threads / 2 PHP threads = 4';
my $ok = grep { $srv->get('/')->{status} == 200 } 1 .. 20;
is $ok, 20, '20 requests on new connections: 200';
my $total = 0;
for (1 .. 20) {
    $sj = eval { json_decode($srv->get('/trueasync-status?json')->{body}) };
    $total = 0;
    $total += $_->{requests_total} for map { @{ $_->{workers}[0]{threads} } } @{ $sj->{children} || [] };
    last if $total >= 20;
    sleep 0.1;
}
is $total, 20, 'the children\'s requests_total add up to 20, whichever child answers';
my $html = $srv->get('/trueasync-status')->{body} // '';
is scalar(grep { my $p = $_; scalar(() = $html =~ /<tr><td>$p<\/td><td>\d<\/td><td>ready<\/td>/g) == 2 } @pids), 2,
    'the HTML page has a row per thread of each child';
my $prom = $srv->get('/trueasync-status?prometheus')->{body} // '';
is scalar(grep { $prom =~ /^trueasync_requests_total\{worker="[^"]*",pid="$_",thread="1"\}/m } @pids), 2,
    '?prometheus lists every child and thread';

SKIP: {
    skip 'prometheus is not installed (Debian: prometheus)', 1 unless -x '/usr/bin/prometheus';
    my $dir = tempdir(CLEANUP => 1);
    my $pport = TAServer::free_port();
    my $sport = $srv->port;
    open my $fh, '>', "$dir/prometheus.yml" or die $!;
    print $fh <<"YML";
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: trueasync
    metrics_path: /trueasync-status
    params: { prometheus: [''] }
    static_configs:
      - targets: ['127.0.0.1:$sport']
YML
    close $fh;
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', "$dir/prometheus.log"; open STDERR, '>&', \*STDOUT;
        { exec '/usr/bin/prometheus', "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/data",
               "--web.listen-address=127.0.0.1:$pport"; }
        POSIX::_exit(127);
    }
    my $value;
    my $deadline = time + 30;
    while (time < $deadline) {
        sleep 0.5;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $pport, Timeout => 2) or next;
        print $s "GET /api/v1/query?query=sum(trueasync_requests_total) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        local $/; my $resp = <$s> // '';
        ($value) = $resp =~ /"value":\[[\d.]+,"(\d+)"\]/;
        last if defined $value && $value >= 20;
    }
    kill 'TERM', $pid; waitpid $pid, 0;
    is $value, 20, 'a Prometheus server scraping every second reports sum(trueasync_requests_total) = 20'
        or diag `tail -5 $dir/prometheus.log`;
}
