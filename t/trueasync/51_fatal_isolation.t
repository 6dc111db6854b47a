# A fatal error fails only its own request: compile errors (eval and
# include), memory_limit, E_USER_ERROR, each beside 50 requests waiting on
# the same (single) PHP thread: only the fatal one gets 500, the others get
# 200, and the worker script was not booted again. Coroutines the failed
# request spawned are cancelled (their finally blocks run), and fiber stacks
# come back: the mapping count is flat after 200 fatal errors with 10
# coroutines in flight each. A fatal that leaves much memory behind recycles
# the thread gracefully: no request fails or gets 503 for it.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel json_decode log_mark wait_log);
use Time::HiRes qw(time sleep);

my $V = 'trueasync_isolation';
my @fatals = (
    ['/compile',    qr/Cannot redeclare strlen\(\)/,             'compile error in eval()'],
    ['/include',    qr/Cannot redeclare strlen\(\).*redeclare\.inc/, 'compile error in an included file'],
    ['/oom-big',    qr/Allowed memory size of 33554432 bytes exhausted/, 'memory_limit (one big allocation)'],
    ['/user-error', qr/ta-user-fatal/,                            'E_USER_ERROR'],
);

plan tests => 7 * @fatals + 11;

sub state { json_decode(raw_request($V, path => '/state', timeout => 20)->{body} // '{}') }

my $s0 = state();
ok $s0->{boot}, 'worker answers with its boot id';

for my $f (@fatals) {
    my ($path, $msg, $what) = @$f;
    my $mark = log_mark();
    my $t0 = time;
    my @jobs = map { my $i = $_; sub {
        my $r = raw_request($V, path => "/wait?ms=1500&id=$i", timeout => 20);
        { status => $r->{status}, body => $r->{body} // '' }
    } } 1 .. 50;
    push @jobs, sub {
        sleep 0.5;      # while the 50 wait
        my $r = raw_request($V, path => $path, timeout => 20);
        { status => $r->{status}, body => $r->{body} // '', t => time }
    };
    my @res = parallel(\@jobs, 30);
    my $fatal = pop @res;
    is $fatal->{status}, 500, "$what: its request gets 500";
    unlike $fatal->{body}, qr/unreachable/, "$what: the handler did not go on";
    my @ok = grep { ($_->{status} // 0) == 200 } @res;
    is scalar(@ok), 50, "$what: the 50 requests waiting beside it get 200"
        or diag join ' ', map { $_->{status} // $_->{error} } @res;
    my @same = grep { $_->{body} =~ /boot=\Q$s0->{boot}\E/ } @ok;
    is scalar(@same), 50, "$what: served by the worker as booted before";
    my $log = wait_log($mark, $msg, 5) // '';
    like $log, $msg, "$what: PHP's fatal error is in the error log";
    unlike $log, qr/boots again|failed to boot/, "$what: no reboot logged";
    my $s = state();
    is $s->{boot}, $s0->{boot}, "$what: the worker script was not booted again";
}

is state()->{strlen}, 3, 'strlen() is still the built-in one';

# Fiber stacks: warm the idle runner pool first, then 200 fatal errors,
# each with 10 coroutines in flight.
raw_request($V, path => '/spawn-ok') for 1 .. 3;
my $before = state();
my $bad = 0;
for (1 .. 200) {
    my $r = raw_request($V, path => '/spawn-fatal', timeout => 20);
    $bad++ unless ($r->{status} // 0) == 500;
}
is $bad, 0, '200 fatal errors with coroutines in flight: each gets 500';
my $after = state();
is $after->{finally} - $before->{finally}, 2000, 'the 2,000 coroutines they spawned were cancelled (finally ran)';
cmp_ok $after->{maps}, '<=', $before->{maps} + 4,
    "memory mappings back to the baseline ($before->{maps} before, $after->{maps} after)";
is $after->{boot}, $s0->{boot}, 'and the worker was never booted again';

# A fatal that leaves much memory behind (an array grown to memory_limit
# stays with the dead frames): the thread recycles, gracefully.
my $mark = log_mark();
my @jobs = map { my $i = $_; sub {
    my $r = raw_request($V, path => "/wait?ms=1000&id=$i", timeout => 20);
    { status => $r->{status}, body => $r->{body} // '' }
} } 1 .. 20;
push @jobs, sub { sleep 0.3; my $r = raw_request($V, path => '/oom-grow', timeout => 20); { status => $r->{status} } };
# requests that arrive while the thread waits to recycle queue, not 503
push @jobs, map { my $i = $_; sub {
    sleep 0.6;
    my $r = raw_request($V, path => "/wait?ms=10&id=late$i", timeout => 20);
    { status => $r->{status}, body => $r->{body} // '' }
} } 1 .. 10;
my @res = parallel(\@jobs, 40);
is $res[20]{status}, 500, 'growing array up to memory_limit: 500';
my @early = @res[0 .. 19];
is scalar(grep { ($_->{status} // 0) == 200 && $_->{body} =~ /boot=\Q$s0->{boot}\E/ } @early), 20,
    'the 20 requests in flight beside it finish on the old worker';
my @late = @res[21 .. 30];
is scalar(grep { ($_->{status} // 0) == 200 } @late), 10, 'the 10 that came during the recycle get 200, none 503'
    or diag join ' ', map { $_->{status} // $_->{error} } @late;
like wait_log($mark, qr/recycles after a fatal error/, 5) // '', qr/recycles after a fatal error/,
    'the recycle is logged with its cause';
isnt state()->{boot}, $s0->{boot}, 'the worker script booted afresh after the recycle';
