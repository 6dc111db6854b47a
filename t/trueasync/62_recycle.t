# Recycling (issue 12, lifecycle): with TrueAsyncMaxRequests 50 and two
# threads, 1,000 requests over 16 connections all get 200 while the worker
# script boots again and again; with TrueAsyncMaxMemory 8M a handler that
# keeps 1 MiB per request makes its thread boot afresh, and no request
# fails. Each recycle is logged with its cause.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel log_mark wait_log);

plan tests => 6;

my $mark = log_mark();
my @jobs = map { sub {
    my (%boots, $ok);
    for (1 .. 63) {
        my $r = raw_request('trueasync_maxreq', path => '/', timeout => 20);
        next unless ($r->{status} // 0) == 200;
        $ok++;
        $boots{$1} = 1 if ($r->{body} // '') =~ /boot=(\w+)/;
    }
    { ok => $ok // 0, boots => [keys %boots] }
} } 1 .. 16;
my @res = parallel(\@jobs, 120);
my $ok = 0; my %boots;
for (@res) { $ok += $_->{ok} // 0; $boots{$_} = 1 for @{ $_->{boots} || [] } }
is $ok, 16 * 63, '1,008 requests over 16 connections, TrueAsyncMaxRequests 50: all 200';
cmp_ok scalar(keys %boots), '>=', 20, 'the worker script booted at least 20 times (' . scalar(keys %boots) . ' boot ids seen)';
like wait_log($mark, qr/recycles after TrueAsyncMaxRequests requests/, 5) // '', qr/recycles after TrueAsyncMaxRequests/,
    'the recycle is logged with its cause';

$mark = log_mark();
my (@st, %mboots, $max_kept);
for (1 .. 20) {
    my $r = raw_request('trueasync_maxmem', path => '/grow', timeout => 20);
    push @st, $r->{status} // 0;
    my ($b, $k) = ($r->{body} // '') =~ /boot=(\w+) kept=(\d+)/;
    $mboots{$b} = 1 if $b;
    $max_kept = $k if $k && (!$max_kept || $k > $max_kept);
}
is scalar(grep { $_ == 200 } @st), 20, 'TrueAsyncMaxMemory 8M: 20 requests keeping 1 MiB each all get 200';
ok keys(%mboots) >= 2 && $max_kept <= 9, 'the thread booted afresh before it held much more than 8 MiB (max kept ' . ($max_kept // 0) . ' MiB, ' . scalar(keys %mboots) . ' boots)';
like wait_log($mark, qr/above TrueAsyncMaxMemory/, 5) // '', qr/recycles as its memory in use is above TrueAsyncMaxMemory/,
    'the memory recycle is logged with its cause';
