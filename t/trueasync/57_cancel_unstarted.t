# Cancelling a coroutine that has not started yet (issue 11, defect 1): it
# never runs, await() throws its CancellationError, and the child does not
# die (it used to abort). A coroutine cancelled while it waits for its next
# turn after suspend() gets the cancellation there.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request log_mark log_since);

plan tests => 4;

my $mark = log_mark();
my $r = raw_request('trueasync_isolation', path => '/cancel-unstarted');
is $r->{status}, 200, 'the request completes';
my ($log, $pid) = ($r->{body} // '') =~ /^(.*) pid=(\d+)$/;
is $log, 'Async\\AsyncCancellation,cancelled=true,yielded,Async\\AsyncCancellation',
    'the unstarted coroutine never ran; both awaits throw AsyncCancellation';
my $r2 = raw_request('trueasync_isolation', path => '/cancel-unstarted');
like $r2->{body} // '', qr/ pid=\Q$pid\E$/, 'the same child answers again';
unlike log_since($mark) // '', qr/exit signal/, 'no child died';
