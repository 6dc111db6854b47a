# Issue 19, on private servers:
# - PHP's log lines under Debian's `LogLevel warn`: error_log() and the
#   E_NOTICE/E_DEPRECATED lines PHP hands over at notice level are written,
#   as httpd writes notice whatever the LogLevel; Debian's mod_php (on a
#   prefork server of its own) running the same script is the reference.
# - A request that never gives its thread back (it swallows every
#   cancellation and never suspends) cannot keep a stopping child: after a
#   graceful restart and GracefulShutdownTimeout, the old child exits.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);
use TATest qw(top_dir module_so run_captured);

my $top    = top_dir();
my $httpd  = Apache::Test::vars('httpd') || '/usr/sbin/apache2';
my $moddir = '/usr/lib/apache2/modules';
my $user   = Apache::Test::vars('user')  || 'nobody';
my $group  = Apache::Test::vars('group') || 'nogroup';
my $cache  = $ENV{TRUEASYNC_CACHE} || '/var/cache/mod_trueasync';
my $modphp = "$cache/mod-php/root/usr/lib/apache2/modules/libphp8.2.so";
my $cases  = "$top/t/php/inc/compat_cases";

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# Starts a private httpd; returns { dir, port, log, pid_file }.
sub start_server {
    my (%o) = @_;
    my $dir = tempdir('ta-compat-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $port = free_port();
    my $mpm = $o{mpm} || 'event';
    open my $fh, '>', "$dir/httpd.conf" or die;
    print $fh <<"CONF";
ServerRoot "$dir"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
DefaultRuntimeDir "$dir"
LogLevel warn
User $user
Group $group
LoadModule mpm_${mpm}_module $moddir/mod_mpm_$mpm.so
LoadModule authz_core_module $moddir/mod_authz_core.so
$o{body}
CONF
    close $fh;
    local $ENV{PHPRC} = $o{phprc} if $o{phprc};
    my ($st, $out) = run_captured([$httpd, '-k', 'start', '-f', "$dir/httpd.conf", '-d', $dir]);
    die "private httpd did not start: $out " . slurp("$dir/error_log") if $st != 0;
    my $t0 = time;
    until (IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')) {
        die "private httpd does not listen" if time - $t0 > 15;
        sleep 0.1;
    }
    return { dir => $dir, port => $port, log => "$dir/error_log" };
}

sub stop_server {
    my $s = shift;
    run_captured([$httpd, '-k', 'stop', '-f', "$s->{dir}/httpd.conf", '-d', $s->{dir}], 30);
    my $t0 = time;
    sleep 0.1 while -e "$s->{dir}/httpd.pid" && time - $t0 < 15;
}

sub get {
    my ($s, $path, @h) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->{port}, Proto => 'tcp', Timeout => 10) or return '';
    print $c "GET $path HTTP/1.0\r\nHost: localhost\r\n" . join('', map { "$_\r\n" } @h) . "\r\n";
    local $/;
    my $r = <$c> // '';
    return $r;
}

sub slurp { my $f = shift; open my $fh, '<', $f or return ''; local $/; <$fh> // '' }

# ---- PHP's log lines under LogLevel warn
my $ours = start_server(body => <<"CONF");
LoadModule trueasync_module @{[ module_so() ]}
TrueAsyncWorker $top/t/php/compat.php
TrueAsyncThreads 1
<Location />
    SetHandler trueasync-worker
</Location>
CONF
like get($ours, '/case/log_lines?tag=ours'), qr/logged ours/, 'the worker ran the script';
sleep 0.3;
my $log = slurp($ours->{log});
stop_server($ours);

ok -f $modphp, "Debian's mod_php is unpacked at $modphp (scripts/setup.sh)";
my $php = start_server(mpm => 'prefork', body => <<"CONF");
LoadModule php_module $modphp
DocumentRoot "$cases"
<Directory "$cases">
    Require all granted
</Directory>
<FilesMatch "\\.php\$">
    SetHandler application/x-httpd-php
</FilesMatch>
CONF
like get($php, '/log_lines.php?tag=modphp'), qr/logged modphp/, 'mod_php ran the same script';
sleep 0.3;
my $ref = slurp($php->{log});
stop_server($php);

for my $what (qw(error-log user-notice user-deprecated user-warning)) {
    my $in_ref = $ref =~ /compat-$what-modphp/ ? 1 : 0;
    my $in_ours = $log =~ /compat-$what-ours/ ? 1 : 0;
    is $in_ours, $in_ref, "$what: " . ($in_ref ? 'written' : 'not written') . ' under LogLevel warn, as by mod_php'
        or diag "ours:\n$log\nmod_php:\n$ref";
}
like $ref, qr/compat-error-log-modphp/, 'the reference is real: mod_php writes error_log() under LogLevel warn';
like $log, qr/\[trueasync:notice\].*compat-error-log-ours/, 'error_log() at notice level, the level PHP gives it';
like $log, qr/\[trueasync:warn\].*compat-user-warning-ours/, 'E_USER_WARNING at warn level';

# ---- zlib.output_compression=1 in php.ini (PHP's RINIT of the worker's
# boot reads $_SERVER then): requests compress as under php-cgi, no child
# crashes, the handler has its $_SERVER
{
    my $inidir = tempdir('ta-compat-ini-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $inidir;
    open my $fh, '>', "$inidir/php.ini" or die;
    print $fh "zlib.output_compression=1\n";
    close $fh;
    chmod 0644, "$inidir/php.ini";
    my $s = start_server(phprc => $inidir, body => <<"CONF");
LoadModule trueasync_module @{[ module_so() ]}
TrueAsyncWorker $top/t/php/compat.php
TrueAsyncThreads 2
<Location />
    SetHandler trueasync-worker
</Location>
CONF
    for my $case (qw(gzip plain)) {
        local %ENV = (PATH => $ENV{PATH}, REDIRECT_STATUS => '200', REQUEST_METHOD => 'GET',
                      SCRIPT_FILENAME => "$cases/$case.php", HTTP_ACCEPT_ENCODING => 'gzip');
        my ($wh, $wb) = split /\r\n\r\n/, scalar(`/usr/bin/php-cgi8.2 -n -d cgi.force_redirect=0 -d display_errors=0 -d zlib.output_compression=1`), 2;
        my ($gh, $gb) = split /\r\n\r\n/, get($s, "/case/$case", 'Accept-Encoding: gzip'), 2;
        my ($wce) = $wh =~ /^Content-Encoding: (\S+)/mi;
        my ($gce) = ($gh // '') =~ /^Content-Encoding: (\S+)/mi;
        is $gce, $wce, "php.ini zlib.output_compression=1, $case: Content-Encoding " . ($wce // 'none') . ' as under php-cgi';
        is $gb, $wb, "php.ini zlib.output_compression=1, $case: the same body as under php-cgi";
    }
    my ($sh, $sb) = split /\r\n\r\n/, get($s, '/case/server'), 2;
    is $sb, 'server:GET', 'php.ini zlib.output_compression=1: the handler has $_SERVER';
    sleep 0.3;
    my $slog = slurp($s->{log});
    unlike $slog, qr/exit signal|Undefined global variable \$_SERVER/, '... no child crashed, no $_SERVER missing';
    stop_server($s);
}

# ---- a request that never gives its thread back cannot keep a stopping child
{
    my $s = start_server(body => <<"CONF");
LoadModule trueasync_module @{[ module_so() ]}
GracefulShutdownTimeout 1
TrueAsyncWorker $top/t/php/compat.php
TrueAsyncThreads 1
<Location />
    SetHandler trueasync-worker
</Location>
CONF
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $s->{port}, Proto => 'tcp', Timeout => 10);
    print $c "GET /case/spin HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my ($buf, $pid) = ('');
    my $t0 = time;
    while (time - $t0 < 10) {
        my $n = sysread($c, $buf, 4096, length $buf);
        last if !$n;
        if ($buf =~ /\r\n\r\n(?:[0-9a-f]+\r\n)?(\d+)/) { $pid = $1; last }
    }
    ok $pid && -e "/proc/$pid", 'the spinning request runs in child ' . ($pid // '?');
    run_captured([$httpd, '-k', 'graceful', '-f', "$s->{dir}/httpd.conf", '-d', $s->{dir}]);
    my $t1 = time;
    sleep 0.2 while -e "/proc/$pid" && time - $t1 < 30;
    my $took = time - $t1;
    ok !-e "/proc/$pid", sprintf('after a graceful restart the old child exited (%.1f s)', $took);
    like slurp($s->{log}), qr/TA00880: .*still holds its thread/, 'the error log says why it exited without waiting';
    close $c;
    stop_server($s);
}

done_testing();
