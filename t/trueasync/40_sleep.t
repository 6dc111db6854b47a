# 40. sleep(), usleep(), time_nanosleep(), time_sleep_until() inside request
#     coroutines wait on the reactor: 20 concurrent requests on one PHP
#     thread finish together, with PHP's own return values and errors.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use TATest qw(raw_request parallel json_decode);

plan tests => 1 + 3 * 5 + 4 + 2 * 4;

sub get {
    my ($path, %o) = @_;
    my $r = raw_request('trueasync_blocking', path => $path, timeout => $o{timeout} || 20);
    my $j = eval { json_decode($r->{body} // '') };
    return ($r->{status} // 0, $j // {}, $r);
}

my ($s, $j, $r) = get('/?id=warm');
is $s, 200, 'warm-up request 200' or diag explain $r;

# Fewer than 20 x the pause, and the pauses overlapped (latest start before
# the earliest end). Each pause is 0.6 s or more: the 20 forked clients of a
# 2-core machine can take a few hundred ms to all start.
sub concurrent {
    my ($path, $limit, $check, $what) = @_;
    my $N = 20;
    my $t0 = time;
    my @res = parallel([ map { my $id = "r$_"; sub {
        my ($s, $j) = get("$path?id=$id");
        return { status => $s, json => $j };
    } } 1 .. $N ], 30);
    my $elapsed = time - $t0;
    is scalar(grep { $_->{status} == 200 } @res), $N, "$path: all $N got 200"
        or diag explain \@res;
    is_deeply [ sort map { $_->{json}{id} // '' } @res ], [ sort map { "r$_" } 1 .. $N ],
        "$path: each request got its own answer";
    is scalar(grep { $check->($_->{json}{ret}) } @res), $N, "$path: returns $what"
        or diag explain [ map { $_->{json}{ret} } @res ];
    ok $elapsed < $limit, sprintf("$path: 20 in parallel took %.3f s (< %.1f s)", $elapsed, $limit);
    my ($max_start) = sort { $b <=> $a } map { $_->{json}{start} // 1e20 } @res;
    my ($min_end) = sort { $a <=> $b } map { $_->{json}{end} // 0 } @res;
    ok $max_start < $min_end, "$path: all 20 were asleep at once";
}

concurrent('/sleep', 3.0, sub { defined $_[0] && !ref $_[0] && $_[0] eq '0' }, '0 like sleep()');
concurrent('/usleep', 3.0, sub { !defined $_[0] }, 'null like usleep()');
concurrent('/nanosleep', 3.0, sub { JSON::PP::is_bool($_[0]) && $_[0] }, 'true like time_nanosleep()');

($s, $j) = get('/sleep-until');
ok JSON::PP::is_bool($j->{ret}) && $j->{ret}, 'time_sleep_until(now + 0.2) returns true';
my $took = ($j->{end} // 0) - ($j->{start} // 0);
ok $took >= 0.19 && $took < 1, sprintf('and waits about 0.2 s (%.3f s)', $took);

($s, $j) = get('/sleep-checks');
is $s, 200, '/sleep-checks -> 200';
is_deeply $j->{now}, $j->{boot},
    'return values, warnings and errors equal the original functions at boot'
    or diag explain $j;
diag explain $j->{now}{until_past} if $ENV{TEST_VERBOSE};

# Cancelling a coroutine blocked in one of them throws Async\CancellationError
# at once (for exec, the reactor kills the command's shell).
for my $fn (qw(sleep usleep shell_exec exec)) {
    ($s, $j) = get("/cancel?fn=$fn");
    is $j->{class}, 'Async\\AsyncCancellation', "cancelled in $fn(): AsyncCancellation";
    my $t = ($j->{end} // 0) - ($j->{start} // 0);
    ok $t < 1.5, sprintf("cancelled in $fn(): returned after %.3f s", $t);
}
