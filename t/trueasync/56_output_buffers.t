# Output buffering belongs to the request (issue 10, first part): ob_*
# scripts give what PHP's own CLI gives for them, and requests whose
# coroutines interleave on ONE thread never see each other's buffers: a
# buffer held open across a wait gets back exactly what its request wrote,
# while other requests echo and open buffers of their own meanwhile.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel top_dir);

my @cases = qw(nested callback unclosed chunked status flush);
plan tests => @cases + 6;

my $top = top_dir();
my ($php) = grep { -x } map { "$_/bin/php" }
    map { my $c = $_; chomp(my $p = `$c --prefix 2>/dev/null`); $p } (do {
        open my $fh, '<', "$top/build/php-config.path" or die "build/php-config.path: $!";
        my $l = <$fh>; chomp $l; $l });
$php ||= $ENV{TRUEASYNC_PHP_CLI} or die 'no PHP CLI of the module\'s build';

for my $c (@cases) {
    my $file = "$top/t/php/inc/ob_cases/$c.php";
    my $want = `$php -n $file`;
    my $r = raw_request('trueasync_output', path => "/case?name=$c");
    is $r->{body}, $want, "$c.php: the same output as PHP's CLI ('$want')";
}

# 25 requests hold a buffer across a 300 ms wait while 25 others echo and
# leave buffers open, all on one thread.
my @jobs;
for my $i (1 .. 25) {
    push @jobs, sub { my $r = raw_request('trueasync_output', path => "/hold?id=h$i"); { s => $r->{status}, b => $r->{body} } };
    push @jobs, sub { select undef, undef, undef, 0.05;
                      my $r = raw_request('trueasync_output', path => "/noise?id=n$i"); { s => $r->{status}, b => $r->{body} } };
}
push @jobs, sub { select undef, undef, undef, 0.1;
                  my $r = raw_request('trueasync_output', path => '/level'); { s => $r->{status}, b => $r->{body} } };
my @res = parallel(\@jobs, 30);
my $level = pop @res;
my ($hold_ok, $noise_ok, $bad) = (0, 0, '');
for my $i (1 .. 25) {
    my ($h, $n) = @res[2 * $i - 2, 2 * $i - 1];
    if (($h->{b} // '') eq "got[mine-h$i] level=0") { $hold_ok++ } else { $bad .= " h$i:" . ($h->{b} // 'undef') }
    if (($n->{b} // '') eq "LEAK-n$i B-n${i}C-n$i") { $noise_ok++ } else { $bad .= " n$i:" . ($n->{b} // 'undef') }
}
is $hold_ok, 25, 'each held buffer got back exactly what its own request wrote' or diag $bad;
is $noise_ok, 25, 'each other request got its own echo and its open buffers, flushed at its end' or diag $bad;
is $level->{b}, '0', 'a request starting meanwhile has no buffer of another request (ob_get_level() 0)';
my $all = join '', map { $_->{b} // '' } @res;
my $cross = () = $all =~ /got\[[^\]]*LEAK/g;
is $cross, 0, 'no LEAK inside any held buffer';
is raw_request('trueasync_output', path => '/level')->{body}, '0', 'afterwards the thread has no buffer left open';
is scalar(grep { ($_->{s} // 0) == 200 } @res), 50, 'all 50 got 200';

