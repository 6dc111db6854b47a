# PHP threads that follow the load (issue 23): TrueAsyncThreads 1 4 starts
# one thread per child and more while requests wait in the queues (one boot
# at a time), up to 4; a thread above MIN that served nothing for
# TrueAsyncThreadIdleTimeout finishes what it holds and exits. The status
# page shows the threads by state, MIN/MAX and the starts and stops by
# cause. A graceful restart with extra threads running loses no request.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(parallel json_decode top_dir);
use TAServer;

my $top = top_dir();
my $srv = TAServer->new(body => <<"CONF");
TrueAsyncWorker $top/t/php/scaling.php
TrueAsyncThreads 1 4
TrueAsyncThreadIdleTimeout 2
<Location />
    SetHandler trueasync-worker
</Location>
<Location /st>
    SetHandler trueasync-status
</Location>
CONF

sub pool { my $j = eval { json_decode($srv->get('/st?json', 10)->{body}) } or return {}; $j->{children}[0]{workers}[0]{pool} // {} }
sub child_pid { my $j = eval { json_decode($srv->get('/st?json', 10)->{body}) } or return 0; $j->{children}[0]{pid} // 0 }
# names of the child's PHP threads, as top -H and ps -L show them
sub php_threads {
    my $pid = shift;
    my @names;
    for my $f (glob "/proc/$pid/task/*/comm") { open my $fh, '<', $f or next; my $n = <$fh> // ''; chomp $n; push @names, $n if $n =~ /^ta-php-\d+$/ }
    return sort @names;
}
sub rss_kb { my $pid = shift; open my $fh, '<', "/proc/$pid/status" or return 0; while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ } 0 }
# polls the pool until $cond holds or $secs passed; returns the last look
sub wait_pool {
    my ($cond, $secs) = @_;
    my $p = {};
    for (1 .. $secs * 10) { $p = pool(); last if $cond->($p); sleep 0.1 }
    return $p;
}

ok $srv->start, 'private server with TrueAsyncThreads 1 4 starts';
my $p = wait_pool(sub { ($_[0]{running} // 0) == 1 }, 10);
is_deeply [@$p{qw(min max running booting idle)}], [1, 4, 1, 0, 3],
    'at start: one thread running, 3 idle slots, min 1, max 4' or diag explain $p;
is $srv->get('/')->{status}, 200, 'it serves';
my $pid = child_pid();
my $rss0 = rss_kb($pid);
is_deeply [php_threads($pid)], ['ta-php-0'], 'the PHP thread is named ta-php-0 (top -H, ps -L)';

# 12 requests at once, each 200 ms inside a one-at-a-time handler
my $t0 = time;
my @res = parallel([map { sub { $srv->get('/?ms=200', 20) } } 1 .. 12], 30);
my $took = time - $t0;
is scalar(grep { $_->{status} == 200 && $_->{body} =~ /^ok \w+$/ } @res), 12, '12 requests at once: all answered 200'
    or diag explain \@res;
my %boots = map { ($_->{body} =~ /^ok (\w+)/)[0] // '' => 1 } @res;
cmp_ok scalar(keys %boots), '>', 1, sprintf('they were served by %d threads', scalar keys %boots);
cmp_ok $took, '<', 12 * 0.2, sprintf('faster than one after another (%.2f s for 12 x 200 ms)', $took);
$p = pool();
cmp_ok $p->{running} // 0, '>', 1, "the status page shows more than one thread running ($p->{running})";
cmp_ok $p->{starts}{load} // 0, '>=', 1, "... and the starts for load ($p->{starts}{load})";
is $p->{starts}{min}, 1, '... and the one started with the child';
my $rss_peak = rss_kb($pid);
my @named = php_threads($pid);
cmp_ok scalar(@named), '>', 1, "the started threads have names of their own too (@named)";

# idle for TrueAsyncThreadIdleTimeout 2: back to MIN
$p = wait_pool(sub { ($_[0]{running} // 0) == 1 && ($_[0]{idle} // 0) == 3 }, 8);
is_deeply [@$p{qw(running idle)}], [1, 3], 'after the idle timeout: one thread running again, 3 idle slots'
    or diag explain $p;
cmp_ok $p->{stops}{idle} // 0, '>=', 1, "the stops are counted as idle ($p->{stops}{idle})";
is $p->{stops}{boot_failed}, 0, 'none failed';
my $rss_after = rss_kb($pid);
diag sprintf 'child RSS: %d kB at start, %d kB with %d threads, %d kB after they left', $rss0, $rss_peak,
    scalar keys %boots, $rss_after;
SKIP: {
    # ASan's allocator keeps freed memory in quarantine and ignores malloc_trim()
    skip 'RSS under the ASan runtime says nothing about glibc', 1 if $ENV{TRUEASYNC_ASAN_REPORTS};
    cmp_ok $rss_after, '<', $rss_peak, 'the child gave memory back when the threads left';
}
my $r = $srv->get('/?ms=10');
is $r->{status}, 200, 'requests still work';
like $srv->log_text, qr/TA00925.*starts: requests waited/, 'a start for load is logged';

# again, and a graceful restart while the extra threads run
@res = parallel([
    (map { sub { $srv->get('/?ms=300', 20) } } 1 .. 12),
    sub { sleep 0.5; my $q = pool(); { running => $q->{running} // 0, ok => TAServer::ctl($srv, 'graceful') ? 1 : 0 } },
], 30);
my $ctl = pop @res;
ok $ctl->{ok}, "apachectl -k graceful ran while $ctl->{running} threads ran";
is scalar(grep { $_->{status} == 200 && $_->{complete} && $_->{body} =~ /^ok / } @res), 12,
    'graceful restart with extra threads running: all 12 requests answered' or diag explain \@res;
my $back;
for (1 .. 50) { $back = $srv->get('/'); last if $back->{status} == 200; sleep 0.2 }
is $back->{status}, 200, 'the new child serves';
unlike $srv->log_text, qr/exit signal|AddressSanitizer/, 'no child died';
ok $srv->ctl('stop') && $srv->wait_gone(15), 'stopped';
done_testing();
