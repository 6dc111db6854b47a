# 14. Directive validation at config read: `apache2 -t` fails for each bad
#     value, naming the directive and the value; a good config passes.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use TATest qw(top_dir module_so run_captured);

my $top    = top_dir();
my $httpd  = Apache::Test::vars('httpd') || '/usr/sbin/apache2';
my $so     = module_so();
my $worker = "$top/t/php/guide.php";
my $moddir = '/usr/lib/apache2/modules';

my @bad = (
    # directive line(s)                          directive          value (undef: not checked)
    ['TrueAsyncThreads 0',                       'TrueAsyncThreads',    '0'],
    ['TrueAsyncThreads 257',                     'TrueAsyncThreads',    '257'],
    ['TrueAsyncThreads abc',                     'TrueAsyncThreads',    'abc'],
    ['TrueAsyncThreads -3',                      'TrueAsyncThreads',    '-3'],
    ['TrueAsyncThreads 4 2',                     'TrueAsyncThreads',    '2'],
    ['TrueAsyncThreads 1 257',                   'TrueAsyncThreads',    '257'],
    ['TrueAsyncThreads 0 4',                     'TrueAsyncThreads',    '0'],
    ['TrueAsyncThreads 2 lots',                  'TrueAsyncThreads',    'lots'],
    ['TrueAsyncThreadIdleTimeout -1',            'TrueAsyncThreadIdleTimeout', '-1'],
    ['TrueAsyncThreadIdleTimeout 86401',         'TrueAsyncThreadIdleTimeout', '86401'],
    ['TrueAsyncBufferSize 0',                    'TrueAsyncBufferSize', '0'],
    ['TrueAsyncBufferSize 1001',                 'TrueAsyncBufferSize', '1001'],
    ['TrueAsyncBufferSize 12x',                  'TrueAsyncBufferSize', '12x'],
    ['TrueAsyncRetryAfter -1',                   'TrueAsyncRetryAfter', '-1'],
    ['TrueAsyncRetryAfter 86401',                'TrueAsyncRetryAfter', '86401'],
    ['TrueAsyncWorker /nonexistent.php',         'TrueAsyncWorker',     '/nonexistent.php'],
    ['TrueAsyncMaxRequests -1',                  'TrueAsyncMaxRequests', '-1'],
    ['TrueAsyncMaxRequests lots',                'TrueAsyncMaxRequests', 'lots'],
    ['TrueAsyncMaxMemory 12X',                   'TrueAsyncMaxMemory',  '12X'],
    ['TrueAsyncMaxMemory -5M',                   'TrueAsyncMaxMemory',  '-5M'],
    ['TrueAsyncSendFilePath /nonexistent/dir',   'TrueAsyncSendFilePath', '/nonexistent/dir'],
    ['TrueAsyncSendFilePath relative/dir',       'TrueAsyncSendFilePath', 'relative/dir'],
    ["TrueAsyncSendFilePath $worker",             'TrueAsyncSendFilePath', $worker],
    ['TrueAsyncRequestTimeout -1',               'TrueAsyncRequestTimeout', '-1'],
    ['TrueAsyncRequestTimeout 30s',              'TrueAsyncRequestTimeout', '30s'],
    ["<Location /x>\n    TrueAsyncRequestTimeout 86401\n</Location>",
                                                 'TrueAsyncRequestTimeout', '86401'],
    ['TrueAsyncMaxWaitTime soon',                'TrueAsyncMaxWaitTime', 'soon'],
    ['TrueAsyncMaxWaitTime 3600001',             'TrueAsyncMaxWaitTime', '3600001'],
    ['TrueAsyncSlowlogTimeout -5',               'TrueAsyncSlowlogTimeout', '-5'],
    ['TrueAsyncMaxConsecutiveFailures 0',        'TrueAsyncMaxConsecutiveFailures', '0'],
    ['TrueAsyncMaxConsecutiveFailures many',     'TrueAsyncMaxConsecutiveFailures', 'many'],
    ["<Location /x>\n    TrueAsyncMaxWaitTime 100\n</Location>",
                                                 'TrueAsyncMaxWaitTime', undef],
    ['TrueAsyncWatch sometimes',                 'TrueAsyncWatch',      'sometimes'],
    ['TrueAsyncMaxConcurrency 0',                'TrueAsyncMaxConcurrency', '0'],
    ['TrueAsyncMaxConcurrency 1000001',          'TrueAsyncMaxConcurrency', '1000001'],
    ['TrueAsyncMaxConcurrency many',             'TrueAsyncMaxConcurrency', 'many'],
    # TAKE2 arity errors are reported by httpd core, which names the
    # directive but never echoes the line; only the directive is checked.
    ['TrueAsyncPHPIni memory_limit',             'TrueAsyncPHPIni',     undef],
    ["<VirtualHost 127.0.0.1:*>\n    TrueAsyncThreads 300\n</VirtualHost>",
                                                 'TrueAsyncThreads',    '300'],
    ["<VirtualHost 127.0.0.1:*>\n    TrueAsyncWorker /nonexistent/vhost.php\n</VirtualHost>",
                                                 'TrueAsyncWorker',     '/nonexistent/vhost.php'],
);

plan tests => 3 * @bad + 4;

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub conf_text {
    my ($dir, $body) = @_;
    my $port = free_port();
    return <<"CONF";
ServerRoot "$dir"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
DefaultRuntimeDir "$dir"
LoadModule mpm_event_module $moddir/mod_mpm_event.so
LoadModule authz_core_module $moddir/mod_authz_core.so
LoadModule trueasync_module $so
TrueAsyncWorker $worker
$body
<Location />
    SetHandler trueasync-worker
</Location>
CONF
}

# runs `httpd -t -f conf`, returns (exit status, combined output)
sub configtest {
    my ($body) = @_;
    my $dir = tempdir('ta-conftest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh conf_text($dir, $body);
    close $fh;
    my ($status, $out) = run_captured([$httpd, '-t', '-f', $conf, '-d', $dir]);
    return ($status, $out) if $status < 0;
    # the file's own path and the "Syntax error on line N" lead-in would make
    # value matches trivially true; drop them before matching values
    (my $msg = $out) =~ s/^.*Syntax error on line \d+ of [^\n]*\n?//mg;
    $msg =~ s/\Q$dir\E\S*//g;
    return ($status, $out, $msg);
}

for my $case (@bad) {
    my ($lines, $directive, $value) = @$case;
    (my $label = $lines) =~ s/\s+/ /g;
    my ($status, $out, $msg) = configtest($lines);
    isnt $status, 0, "-t fails for: $label";
    like $out, qr/\Q$directive\E/, "... output names $directive" or diag $out;
    if (defined $value) {
        like $msg // '', qr/(?<![\w.\/-])\Q$value\E(?![\w.\/-])/, "... output names the value '$value'"
            or diag $out;
    }
    elsif ($lines =~ /<Location/) {
        like $out, qr/not allowed in <Location> context/, '... output says it is not allowed there' or diag $out;
    }
    else {
        like $out, qr/argument/i, '... output says an argument is missing' or diag $out;
    }
}

# good configs pass
my ($status, $out) = configtest(<<'GOOD');
TrueAsyncThreads 2
TrueAsyncBufferSize 20
TrueAsyncRetryAfter 1
TrueAsyncPHPIni memory_limit 64M
TrueAsyncPHPIni display_errors 0
GOOD
is $status, 0, 'typical config passes -t' or diag $out;
like $out, qr/Syntax OK/, '... Syntax OK';

($status, $out) = configtest(<<"EDGE");
TrueAsyncThreads 256 256
TrueAsyncThreadIdleTimeout 86400
TrueAsyncBufferSize 1000
TrueAsyncRetryAfter 86400
TrueAsyncMaxConcurrency 1000000
<VirtualHost 127.0.0.1:*>
    TrueAsyncWorker $top/t/php/overlap.php
    TrueAsyncThreads 1 256
    TrueAsyncThreadIdleTimeout 0
    TrueAsyncBufferSize 1
    TrueAsyncRetryAfter 0
    TrueAsyncPHPIni memory_limit 32M
    TrueAsyncRequestTimeout 30
    TrueAsyncMaxWaitTime 0
    TrueAsyncSlowlogTimeout 3600000
    TrueAsyncMaxConsecutiveFailures 1
    TrueAsyncWatch on
    TrueAsyncMaxConcurrency auto
    <Location /stream>
        TrueAsyncRequestTimeout 0
    </Location>
    <Directory /tmp>
        TrueAsyncRequestTimeout 86400
    </Directory>
</VirtualHost>
EDGE
is $status, 0, 'boundary values (256 / 1000 / 86400, vhost 1 / 1 / 0) pass -t' or diag $out;

($status, $out) = configtest('');
is $status, 0, 'defaults (only TrueAsyncWorker) pass -t' or diag $out;
