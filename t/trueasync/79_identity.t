# Issue 18: code written for one request at a time stays correct.
# - The idiom of every worker-mode framework through
#   frankenphp_handle_request(): a long-lived service holds "the current
#   user", set at request start and read after 100 ms of I/O. 30 users at
#   once on 2 PHP threads: each is told its own name, and on each thread
#   one request at a time is inside the handler (FrankenPHP's contract).
# - An HttpServer::onRequest() worker on one thread: by default its
#   requests interleave; with TrueAsyncMaxConcurrency 1 never, and the
#   ones that wait are queued, not refused.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel json_decode);

plan tests => 10;

sub run_all {
    my ($vhost, @paths) = @_;
    return parallel([ map { my $p = $_; sub {
        my $r = raw_request($vhost, path => $p, timeout => 20);
        my $j = eval { json_decode($r->{body} // '') } // {};
        return { status => $r->{status} // 0, %$j };
    } } @paths ], 30);
}

# true if no two of these requests were in the handler at the same time
sub one_after_another {
    my @iv = sort { $a->[0] <=> $b->[0] } map { [$_->{start} // 0, $_->{end} // 1e20] } @_;
    for my $i (1 .. $#iv) { return 0 if $iv[$i][0] < $iv[$i - 1][1] }
    return 1;
}

# --- frankenphp_handle_request(): 30 users, 2 threads
my $N = 30;
my @res = run_all('trueasync_identity', map { "/?user=u$_" } 1 .. $N);
is scalar(grep { $_->{status} == 200 } @res), $N, "loop worker: all $N users answered 200"
    or diag explain [ grep { $_->{status} != 200 } @res ];
my @wrong = grep { ($res[$_ - 1]{you_are} // '') ne "u$_" } 1 .. $N;
is scalar(@wrong), 0, "loop worker: each of the $N users is told its own name after the wait"
    or diag scalar(@wrong) . " of $N told they are somebody else: "
        . join(', ', map { "u$_ -> " . ($res[$_ - 1]{you_are} // 'none') } @wrong);
my %boots;
push @{ $boots{$_->{boot} // ''} }, $_ for @res;
is scalar(keys %boots), 2, 'loop worker: both PHP threads served';
is scalar(grep { ($_->{inside} // 0) != 1 } @res), 0,
    'loop worker: no request saw another one inside the handler on its thread';
is scalar(grep { !one_after_another(@{ $boots{$_} }) } keys %boots), 0,
    'loop worker: on each thread the requests ran one after another';

# --- HttpServer::onRequest(), one thread
my $M = 10;
@res = run_all('trueasync_conc_default', map { "/?ms=300&id=$_" } 1 .. $M);
is scalar(grep { $_->{status} == 200 } @res), $M, "onRequest, default: all $M answered 200";
my ($peak) = sort { $b <=> $a } map { $_->{inside} // 0 } @res;
cmp_ok $peak, '>', 1, "onRequest, default: requests interleave on the thread (up to $peak in the handler at once)";

@res = run_all('trueasync_conc_one', map { "/?ms=100&id=$_" } 1 .. $M);
is scalar(grep { $_->{status} == 200 } @res), $M,
    "TrueAsyncMaxConcurrency 1: all $M answered 200 (the waiting ones queued, none refused)"
    or diag explain [ grep { $_->{status} != 200 } @res ];
is scalar(grep { ($_->{inside} // 0) != 1 } @res), 0,
    'TrueAsyncMaxConcurrency 1: never two requests in the handler at once';
ok one_after_another(@res), 'TrueAsyncMaxConcurrency 1: the requests ran one after another';
