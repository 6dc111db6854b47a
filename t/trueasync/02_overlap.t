# 2. 20 concurrent requests to a single-thread worker, each Async\delay(600),
#    must overlap: total wall time far below 20 x 600 ms. (600 ms, not less:
#    the 20 forked clients of a 2-core machine can take a few hundred ms to
#    all start, and the overlap check needs every one in before the first ends.)
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use TATest qw(raw_request parallel);

plan tests => 6;

# warm-up (boots nothing new, but makes sure the worker answers at all)
my $w = raw_request('trueasync_overlap', path => '/?id=warm&ms=1');
is $w->{status}, 200, 'warm-up request 200' or diag explain $w;

my $N = 20;
my $t0 = time;
my @res = parallel([ map { my $id = "r$_"; sub {
    my $r = raw_request('trueasync_overlap', path => "/?id=$id&ms=600", timeout => 20);
    return { status => $r->{status}, body => $r->{body}, error => $r->{error} };
} } 1 .. $N ], 20);
my $elapsed = time - $t0;

my @ok = grep { ($_->{status} // 0) == 200 } @res;
is scalar(@ok), $N, "all $N requests got 200"
    or diag explain [ grep { ($_->{status} // 0) != 200 } @res ];

my %ids;
for my $i (1 .. $N) {
    my ($id) = ($res[$i-1]{body} // '') =~ /^id=(\S+)/;
    $ids{$id // ''}++;
}
is_deeply [ sort keys %ids ], [ sort map { "r$_" } 1 .. $N ],
    'each request got its own answer (own id echoed back)';

ok $elapsed < 3.0, sprintf('20 x 600 ms finished in %.3f s (< 3 s; one after another: 12 s)', $elapsed);

# The coroutines' own timestamps overlap: the latest start precedes the
# earliest end, i.e. all 20 were suspended in delay() at the same time.
my (@starts, @ends);
for (@res) {
    my ($s, $e) = ($_->{body} // '') =~ /start=([\d.]+) end=([\d.]+)/ or next;
    push @starts, $s; push @ends, $e;
}
is scalar(@starts), $N, 'all bodies carry PHP timestamps';
my ($max_start) = sort { $b <=> $a } @starts;
my ($min_end)   = sort { $a <=> $b } @ends;
ok defined $max_start && defined $min_end && $max_start < $min_end,
   'all 20 coroutines were waiting at once (max start < min end)'
   or diag "max_start=" . ($max_start // 'undef') . " min_end=" . ($min_end // 'undef');
