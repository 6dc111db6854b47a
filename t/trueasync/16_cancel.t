# 15. Client disconnect cancels the request's coroutine: Async\delay(3000)
#     throws Async\CancellationError, catch and finally run, soon after the
#     client closed the connection.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(raw_request json_decode);

plan tests => 8;

my $V = 'trueasync_cancel';

sub probe {
    my $id = shift;
    my $r = raw_request($V, path => "/probe?id=$id", timeout => 5);
    return ($r->{status} // 0) == 200 ? (eval { json_decode($r->{body}) } || []) : ['HTTP ' . ($r->{status} // '?')];
}

my $id = "c$$" . int(rand 1e6);
my $c = TATest::Conn->new($V);
$c->send_request(path => "/hold?id=$id");
sleep 0.3;
is_deeply probe($id), ['started'], 'request is running in PHP (started, not finished)';

my $t_close = time;
$c->close;

my ($ev, $t_seen) = ([]);
while (time - $t_close < 2.5) {
    $ev = probe($id);
    if (grep { $_ eq 'finally' } @$ev) { $t_seen = time; last }
    sleep 0.1;
}
is_deeply $ev, ['started', 'cancelled', 'finally'],
          'coroutine got CancellationError, then finally ran'
    or diag explain $ev;
ok defined $t_seen && $t_seen - $t_close < 2.0,
   sprintf('cancelled within 2 s of the disconnect (%.3f s)', defined $t_seen ? $t_seen - $t_close : -1);
ok !grep({ $_ eq 'completed' } @$ev), 'the delay did not run to completion';

# the thread keeps working: a full request still completes
my $id2 = "d$$" . int(rand 1e6);
my $t0 = time;
my $r = raw_request($V, path => "/hold?id=$id2", timeout => 10);
is $r->{status}, 200, 'an undisturbed /hold completes with 200';
like $r->{body} // '', qr/completed/, '... after its full delay';
ok time - $t0 >= 2.9, '... which really waited 3 s';
is_deeply probe($id2), ['started', 'completed', 'finally'], '... without cancellation';
