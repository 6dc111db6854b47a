# set_error_handler(), set_exception_handler(), restore_error_handler() and
# error_reporting() inside a request are that request's: while it waits,
# other requests on the same PHP thread keep the worker's (set at boot); its
# coroutines use its handler; restore_error_handler() goes back to the
# worker's; after it ends nothing of it is left. As with php-cgi, where
# every request starts afresh.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode);

my $V = 'trueasync_errhandlers';
my $E_ALL = 32767;
my $E_NOTICE = 8;
sub get { my $r = raw_request($V, path => shift, timeout => 10); eval { json_decode($r->{body}) } || {} }

my $o = get('/?id=p0');
is_deeply $o->{seen}, ['boot:probe'], 'the worker\'s boot-time error handler takes a request\'s warning';
is $o->{level}, $E_ALL, 'error_reporting() is the worker\'s';

my $c = TATest::Conn->new($V);
$c->send_request(path => '/?id=A&set=1&ms=600');
sleep 0.2;
my @during = map { get("/?id=p$_") } 1 .. 4;
is_deeply [map { $_->{seen}[0] // '' } @during], [map { 'boot:probe' } 1 .. 4],
    'while A waits with its own handler, 4 other requests\' warnings go to the worker\'s';
is_deeply [map { $_->{level} } @during], [($E_ALL) x 4], '... and they see the worker\'s error_reporting()';
ok !(grep { $_->{exception_handler} } @during), '... and no exception handler of A\'s';
my $r = $c->read_response(timeout => 10);
my $a = eval { json_decode($r->{body}) } || {};
is $a->{level_after_wait}, $E_ALL & ~$E_NOTICE, 'A\'s error_reporting() is back after it waited';
is $a->{child}, $E_ALL & ~$E_NOTICE, 'a coroutine A spawned sees A\'s error_reporting()';
is_deeply $a->{seen}, ['A:mine', 'A:from child', 'boot:restored'],
    'A\'s warnings (and its child\'s) go to A\'s handler; restore_error_handler() goes back to the worker\'s';
ok $a->{exception_handler_was_set}, 'A\'s exception handler was there for A';
$o = get('/?id=p9');
is_deeply $o->{seen}, ['boot:probe'], 'after A ended the worker\'s handler is the one again';
is $o->{level}, $E_ALL, '... and the worker\'s error_reporting()';
# error_get_last(): another request never sees this one's last error
$c = TATest::Conn->new($V);
$c->send_request(path => '/?id=L&last=1&ms=500');
sleep 0.2;
my @peek = map { get("/?id=q$_")->{last_at_start} } 1 .. 3;
is_deeply \@peek, [undef, undef, undef], 'while L waits, other requests\' error_get_last() is empty (not L\'s error)';
$o = eval { json_decode($c->read_response(timeout => 10)->{body}) } || {};
is $o->{last_after_wait}, 'secret of L', 'L\'s own error_get_last() is back after it waited';
is get('/?id=q9')->{last_at_start}, undef, 'after L ended the next request starts with none';
done_testing();
