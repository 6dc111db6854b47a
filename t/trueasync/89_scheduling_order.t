# The order coroutines run in, as php-async orders them (issue 20, item
# 18): the ready queue runs first in, first out until it is empty before
# the loop looks at I/O and timers (a spawned coroutine waits behind those
# queued, a timer that fell due meanwhile fires after them); a Channel keeps
# a value or a slot for the waiter it woke until that one runs (a second
# recv() waits for the sender; an unbuffered channel parks one value; a
# cancelled waiter hands what was kept on); a Channel closes when the scope
# it was made in is cancelled, with php-async's message for each reason;
# stream_socket_server(), connecting, reading and fclose() let the loop run
# first while writes go out at once (TCP, UDP, stream_socket_pair()); a
# UDP receive keeps the stream's timeout; Future callbacks run in the order
# they were chained. Each program prints what it does; the lines and their
# order are compared.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request);

my $V = 'trueasync_order';
sub run_path {
    my $r = raw_request($V, path => shift, timeout => 15);
    return ($r->{status} // 0) == 200 ? $r->{body} : "HTTP " . ($r->{status} // '?') . " " . ($r->{body} // $r->{error} // '');
}
sub lines { join '', map { "$_\n" } @_ }

my %expect = (
    '/spawn-order' => lines('request goes on after spawning', 'a starts', 'b starts', 'c (spawned by a) runs',
        'a resumes', 'b resumes'),
    '/queue-before-loop' => lines('busy 1', 'busy 2', 'busy 3', 'busy 4', 'timer fired'),
    '/channel-slot-kept' => lines('sender waits for room', 'receiver got first', 'sender done', 'receiver got second',
        'count: 0'),
    '/channel-receivers' => lines('send x', 'R1: x', 'send y', 'send z', 'R1: y', 'closed', 'R2: z', 'R2: EXPLICIT',
        'R1: EXPLICIT'),
    '/channel-unbuffered-async' => lines('sendAsync: yes, count 1, full yes', 'again: no', 'received: p, full no'),
    '/channel-cancelled-sender' => lines('took fill', 's1 cancelled', 's2 sent', 'left: two, count 0'),
    '/channel-scope-end' => lines('waiter got kept', 'closed before: no', 'closed after cancel: yes',
        'waiter: SCOPE_DISPOSED (Channel closed: owner scope disposed)',
        'send: SCOPE_DISPOSED (Channel closed: owner scope disposed)'),
    '/channel-reasons' => lines('recv: NO_PRODUCERS (Channel deadlock: no producers)',
        'send: NO_CONSUMERS (Channel deadlock: no consumers)', 'foreach: NO_PRODUCERS (Channel deadlock: no producers)',
        'foreach after close() ended quietly', 'Error: Cannot iterate channel by reference'),
    '/tcp' => lines('server: bind', 'other: runs', 'server: bound', 'client: connected', 'client: wrote',
        'server: accepted', 'server: read ping', 'server: wrote', 'client: read pong'),
    '/udp' => lines('server: bind', 'other: runs', 'server: bound', 'client: sent 2', 'server: got hi',
        'server: answered', 'client: got HI'),
    '/udp-timeout' => lines('recvfrom: false, timed out: yes, within the timeout: yes'),
    '/socket-pair' => lines('reader: reads', 'writer: wrote one', 'other: runs', 'reader: got one', 'writer: wrote two',
        'reader: then got two', 'writer: closed'),
    '/future-order' => lines('first map of 1', 'second map of 1', 'finally', 'results: 2 3'),
);
my @paths = sort keys %expect;
plan tests => scalar @paths;
is run_path($_), $expect{$_}, $_ for @paths;
