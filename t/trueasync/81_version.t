# Issue 13. The module adds mod_trueasync/<VERSION> to the Server banner
# (ap_add_version_component: shown under ServerTokens Full, httpd's default
# and the test server's; scripts/deb-test.sh checks Debian's ServerTokens OS
# leaves it out), and `apache2 -t -D DUMP_MODULES` and `-V` keep working
# with it loaded.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use TATest qw(raw_request top_dir module_so);

my $top     = top_dir();
my $httpd   = Apache::Test::vars('httpd') || '/usr/sbin/apache2';
my $version = do { local (@ARGV, $/) = "$top/VERSION"; <> };
chomp $version;

plan tests => 5;

my $r = raw_request(undef, path => '/api/req');
is $r->{status}, 200, 'the main worker answers';
my ($server) = map { $_->[1] } grep { lc $_->[0] eq 'server' } @{ $r->{headers} };
like $server // '', qr{\bmod_trueasync/\Q$version\E\b}, "Server header has mod_trueasync/$version"
    or diag $server;

my $dir = tempdir('ta-version-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $so = module_so();
open my $fh, '>', "$dir/httpd.conf" or die $!;
print $fh <<"CONF";
ServerRoot "$dir"
ServerName localhost
Listen 127.0.0.1:9
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
DefaultRuntimeDir "$dir"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule trueasync_module $so
ThreadsPerChild 64
ThreadLimit 64
TrueAsyncWorker $top/t/php/guide.php
CONF
close $fh;

my $out = `$httpd -t -D DUMP_MODULES -f $dir/httpd.conf -d $dir 2>&1`;
is $? >> 8, 0, '-t -D DUMP_MODULES exits 0' or diag $out;
like $out, qr/^\s*trueasync_module \(shared\)$/m, '... and lists trueasync_module (shared)' or diag $out;

$out = `$httpd -V -f $dir/httpd.conf -d $dir 2>&1`;
like $out, qr/^Server MPM:\s+event/m, '-V works with the module loaded' or diag $out;
