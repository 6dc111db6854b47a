# mt_srand() inside a request seeds its own generator: its sequence is the
# one PHP gives for that seed (compared with the CLI of the same PHP), even
# while other requests on the same PHP thread draw, and they never draw from
# its seeded sequence.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode top_dir);

my $V = 'trueasync_random';
sub get { my $r = raw_request($V, path => shift, timeout => 10); eval { json_decode($r->{body}) } || {} }

open my $fh, '<', top_dir() . '/build/php-config.path' or die;
chomp(my $pc = <$fh>);
chomp(my $prefix = `$pc --prefix`);
my $php = "$prefix/bin/php";
my @want = split ' ', `'$php' -n -r 'mt_srand(42); echo mt_rand(), " ", mt_rand(), " ", mt_rand(), " ", rand();'`;
is scalar(@want), 4, 'the CLI of the same PHP gives the sequence of seed 42';

my $c = TATest::Conn->new($V);
$c->send_request(path => '/?seed=42&ms=500');
sleep 0.2;
my @draws = map { @{ get('/')->{draw} // [] } } 1 .. 4;
is scalar(@draws), 8, 'four other requests drew while it waited';
my %seeded = map { $_ => 1 } @want;
is scalar(grep { $seeded{$_} } @draws), 0, '... none of them from its seeded sequence';
my $o = eval { json_decode($c->read_response(timeout => 10)->{body}) } || {};
is_deeply $o->{seq}, [map { $_ + 0 } @want], 'its sequence is seed 42\'s, as PHP gives it, its coroutine included';
done_testing();
