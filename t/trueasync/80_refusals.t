# Issue 13. Set-ups the module cannot work in are refused when the
# configuration is checked (`apache2 -t`, and start-up), each with a message
# naming the cause and what to do: a non-threaded MPM, mod_php in the same
# server, a worker script Apache's User cannot read. A TrueAsyncThreads x
# TrueAsyncBufferSize that ThreadsPerChild can never hold is a warning.
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
my $user   = Apache::Test::vars('user')  || 'nobody';
my $group  = Apache::Test::vars('group') || 'nogroup';
# Debian's mod_php, unpacked by scripts/setup.sh (installing the package
# would switch this machine's Apache to prefork).
my $cache  = $ENV{TRUEASYNC_CACHE} || '/var/cache/mod_trueasync';
my $modphp = "$cache/mod-php/root/usr/lib/apache2/modules/libphp8.2.so";

plan tests => 38;

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp', ReuseAddr => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# %o: mpm (event), before/after (lines around our LoadModule), worker,
# body, user (run as $user/$group unless 0)
sub conf_text {
    my ($dir, %o) = @_;
    my $port = free_port();
    my $mpm = $o{mpm} || 'event';
    my $w = $o{worker} || $worker;
    my $ids = exists $o{user} && !$o{user} ? '' : "User $user\nGroup $group";
    my $threads = $mpm eq 'prefork' ? '' : "ThreadsPerChild $o{tpc}\nThreadLimit $o{tpc}\n" if $o{tpc};
    return <<"CONF";
ServerRoot "$dir"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
DefaultRuntimeDir "$dir"
$ids
LoadModule mpm_${mpm}_module $moddir/mod_mpm_$mpm.so
LoadModule authz_core_module $moddir/mod_authz_core.so
@{[ $o{before} // '' ]}
@{[ $o{include_conf} ? "Define TRUEASYNC_ROOT $o{include_conf}\nInclude $o{include_conf}/conf/trueasync.conf" : "LoadModule trueasync_module $so" ]}
@{[ $o{after} // '' ]}
@{[ $threads // '' ]}
@{[ $o{include_conf} ? '' : "TrueAsyncWorker $w" ]}
@{[ $o{body} // '' ]}
<Location />
    SetHandler trueasync-worker
</Location>
CONF
}

# runs `httpd $action -f conf`; returns (exit status, combined output)
sub run_httpd {
    my ($action, %o) = @_;
    my $dir = tempdir('ta-refuse-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh conf_text($dir, %o);
    close $fh;
    my ($status, $out) = run_captured([$httpd, @$action, '-f', $conf, '-d', $dir]);
    return ($status, $out) if $status < 0;
    # a server that did start (it should not have) is stopped again
    if (-s "$dir/httpd.pid") {
        chomp(my $p = do { local (@ARGV, $/) = "$dir/httpd.pid"; <> });
        kill 'TERM', $p if $p;
        sleep 1;
    }
    return ($status, $out, $dir);
}
sub configtest { run_httpd(['-t'], @_) }

# ---- a non-threaded MPM
my ($st, $out) = configtest(mpm => 'prefork');
isnt $st, 0, 'prefork: configtest fails';
like $out, qr/TA00950: mod_trueasync needs a threaded MPM \(event or worker\), but this server runs the prefork MPM/,
    '... naming the cause' or diag $out;
like $out, qr/a2dismod mpm_prefork && a2enmod mpm_event/, '... and what to do';
unlike $out, qr/Syntax OK/, '... no Syntax OK';

($st, $out) = run_httpd(['-k', 'start'], mpm => 'prefork');
isnt $st, 0, 'prefork: start-up fails too';
like $out, qr/TA00950: .*prefork MPM/, '... with the same message' or diag $out;

($st, $out) = configtest(mpm => 'worker', tpc => 64);
is $st, 0, 'the worker MPM (threaded) passes' or diag $out;
unlike $out, qr/TA0095/, '... without a refusal';

# ---- mod_php in the same server
ok -f $modphp, "Debian's mod_php is unpacked at $modphp (scripts/setup.sh)";
($st, $out) = configtest(after => "LoadModule php_module $modphp");
isnt $st, 0, 'mod_php loaded after trueasync: configtest fails';
like $out, qr/TA00951: mod_php \(php_module, \S*mod_php\.c\) is loaded in this server too: two PHP engines cannot share one process/,
    '... naming the cause, before mod_php speaks' or diag $out;
like $out, qr/a2dismod php8\.2, or a2dismod trueasync/, '... and what to do';
unlike $out, qr/Segmentation|core dumped/i, '... and nothing crashed';
# Loaded first, mod_php takes the PHP symbols and the module cannot even be
# linked: conf/trueasync.conf (as Debian's trueasync.load) checks first.
# (With the prefork MPM mod_php needs: with event, mod_php's own start-up
# refuses the threaded MPM before any configuration is processed.)
($st, $out) = configtest(before => "LoadModule php_module $modphp", include_conf => $top, mpm => 'prefork');
isnt $st, 0, 'mod_php loaded before conf/trueasync.conf: configtest fails';
like $out, qr/mod_trueasync: mod_php \(php_module\) is loaded in this server already: two PHP engines cannot share one process/,
    '... naming the cause' or diag $out;
like $out, qr/a2dismod php8\.2/, '... and what to do';

# ---- the PHP the module was built against is gone
# A checkout whose build/phplib/libphp.so (Makefile.apxs's link to the PHP
# build) points nowhere, as after the cached PHP was removed.
my $gone = tempdir('ta-gone-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$gone/conf"; mkdir "$gone/build"; mkdir "$gone/build/phplib";
system('cp', "$top/conf/trueasync.conf", "$gone/conf/") == 0 or die "cp: $?";
symlink "$gone/php-8.2-zts/lib/php/libphp.so", "$gone/build/phplib/libphp.so" or die "symlink: $!";
($st, $out) = configtest(include_conf => $gone, tpc => 64);
isnt $st, 0, 'the ZTS PHP it was built against is missing: configtest fails';
like $out, qr/mod_trueasync: the ZTS PHP it was built against \(build\/phplib\/libphp\.so links to it\) is missing/,
    '... naming the cause' or diag $out;
like $out, qr/Build it again with 'make module' in \Q$gone\E/, '... and what to do';
($st, $out) = configtest(include_conf => $top, tpc => 64);
is $st, 0, '... while the checkout with its PHP passes' or diag $out;

# ---- the worker script and Apache's User
my $priv = tempdir('ta-priv-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0700, $priv;
my $hidden = "$priv/worker.php";
open my $wf, '>', $hidden or die "$hidden: $!";
print $wf "<?php\n";
close $wf;
($st, $out) = configtest(worker => $hidden);
isnt $st, 0, "worker in a directory $user cannot search: configtest fails";
like $out, qr/TA00952: TrueAsyncWorker \Q$hidden\E is not readable by user \Q$user\E \(Apache's User\), whom the PHP threads run as: Permission denied/,
    '... naming the file, the user and the cause' or diag $out;
like $out, qr/chmod o\+r on the file, o\+x on the directories\) or change User/, '... and what to do';

my $open = tempdir('ta-open-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $open;
my $unread = "$open/worker.php";
open $wf, '>', $unread or die "$unread: $!";
print $wf "<?php\n";
close $wf;
chmod 0600, $unread;
($st, $out) = configtest(worker => $unread);
isnt $st, 0, "worker file $user cannot read (0600): configtest fails";
like $out, qr/TA00952: TrueAsyncWorker \Q$unread\E is not readable by user \Q$user\E/, '... naming it' or diag $out;
chmod 0644, $unread;
($st, $out) = configtest(worker => $unread);
is $st, 0, '... and passes once it is readable (0644)' or diag $out;

($st, $out) = configtest(worker => $hidden,
                         body => "<VirtualHost 127.0.0.1:*>\n    TrueAsyncWorker $worker\n</VirtualHost>");
isnt $st, 0, 'an unreadable worker of the main server is refused with a readable vhost one';
($st, $out) = configtest(body => "<VirtualHost 127.0.0.1:*>\n    TrueAsyncWorker $hidden\n</VirtualHost>");
like $out, qr/TA00952: TrueAsyncWorker \Q$hidden\E/, 'an unreadable vhost worker is refused' or diag $out;

# ---- Threads x BufferSize beyond ThreadsPerChild: a warning
($st, $out) = configtest(tpc => 10, body => "TrueAsyncThreads 2\nTrueAsyncBufferSize 20");
is $st, 0, '2 x 20 with ThreadsPerChild 10: configtest still passes' or diag $out;
like $out, qr/TA00953: TrueAsyncWorker \Q$worker\E: TrueAsyncThreads 2 x TrueAsyncBufferSize 20 = 40 requests, more than ThreadsPerChild 10/,
    '... with a warning naming the numbers' or diag $out;
like $out, qr/queue size is never reached.*Lower TrueAsyncBufferSize to 5 or raise ThreadsPerChild to 40/,
    '... why it matters and what to do';
($st, $out) = configtest(tpc => 40, body => "TrueAsyncThreads 2\nTrueAsyncBufferSize 20");
is $st, 0, '2 x 20 with ThreadsPerChild 40 passes';
unlike $out, qr/TA00953/, '... without the warning' or diag $out;
($st, $out) = configtest(tpc => 10, body => "TrueAsyncThreads 1\nTrueAsyncBufferSize 1\n"
                         . "<VirtualHost 127.0.0.1:*>\n    TrueAsyncWorker $top/t/php/overlap.php\n"
                         . "    TrueAsyncThreads 4\n    TrueAsyncBufferSize 5\n</VirtualHost>");
like $out, qr/TA00953: TrueAsyncWorker \Q$top\E\/t\/php\/overlap\.php: TrueAsyncThreads 4 x TrueAsyncBufferSize 5 = 20/,
    'a virtual host\'s worker gets its own warning' or diag $out;
unlike $out, qr/TA00953: TrueAsyncWorker \Q$worker\E/, '... the main server\'s (1 x 1) none';
($st, $out) = configtest(tpc => 10, body => "TrueAsyncThreads 2");
unlike $out, qr/TA00953/, 'an unset TrueAsyncBufferSize fits ThreadsPerChild (2 x 5 for 10): no warning' or diag $out;

# ---- nothing of the above in a plain good configuration
($st, $out) = configtest(tpc => 64);
is $st, 0, 'a plain configuration passes';
unlike $out, qr/TA0095/, '... without a refusal or a warning' or diag $out;
