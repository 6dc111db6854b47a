# 34. Async\Channel: rendezvous between coroutines of different requests on
#     the same PHP thread, a buffered channel's capacity, close().
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time sleep);
use TATest qw(json_decode);
use TAAsync qw(aget);

plan tests => 13;

# Request A waits in recv() until request B sends.
my $A = TATest::Conn->new('trueasync_async');
$A->send_request(path => '/recv?id=A');
sleep 0.3;
my ($s, $j) = aget('/send?v=hello-from-B');
is $s, 200, 'sender request -> 200';
is $j->{sent}, 'hello-from-B', 'sender done';
my $r = $A->read_response(timeout => 10);
$A->close;
is $r->{status}, 200, 'receiver request -> 200 after the send';
my $ja = eval { json_decode($r->{body}) } || {};
is $ja->{got}, 'hello-from-B', 'value crossed from one request to the other';

($s, $j) = aget('/buffered');
ok $j->{waiting_when_full}, 'a send on a full buffered channel waits';
is $j->{first}, 1, 'values come out in order';
is_deeply $j->{then}, [2, 3], 'the waiting sender got in once there was room';
is $j->{sender}, 'sent 3', 'and then returned';
is $j->{capacity}, 2, 'capacity()';

($s, $j) = aget('/closed');
is $j->{drained}, 'left', 'recv() drains a closed channel';
is $j->{recv_closed}, 'Async\\ChannelException', 'then recv() on a closed empty channel throws';
is $j->{send_closed}, 'Async\\ChannelException', 'send() on a closed channel throws';
is $j->{waiter}, 'woken:Async\\ChannelException', 'close() wakes a waiting receiver with ChannelException';
