# Signals belong to Apache: on a PHP thread, at boot and inside a handler,
# the signals httpd uses are blocked (so none is delivered there), pcntl
# refuses to handle them (a clear ValueError) or to arm SIGALRM, and
# max_execution_time (a process-wide SIGPROF timer in this PHP) stays 0.
# A signal no one in httpd uses (USR2) may still be handled.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);

my @apache = qw(SIGHUP SIGINT SIGQUIT SIGUSR1 SIGPIPE SIGALRM SIGTERM SIGWINCH);
plan tests => 2 * @apache + 10;

my $r = raw_request('trueasync_signals', path => '/');
is $r->{status}, 200, 'signals worker answers';
my $s = json_decode($r->{body} // '{}');
for my $sig (@apache) {
    ok $s->{boot_blocked}{$sig}, "$sig is blocked on the PHP thread while the worker boots";
    ok $s->{blocked}{$sig}, "$sig is blocked on the PHP thread inside a handler";
}
like $s->{pcntl_signal_term}, qr/^ValueError: .*SIGTERM.*Apache httpd owns it/, 'pcntl_signal(SIGTERM) is refused';
like $s->{pcntl_signal_usr1}, qr/^ValueError: .*SIGUSR1/, 'pcntl_signal(SIGUSR1) is refused';
like $s->{pcntl_signal_winch}, qr/^ValueError: .*SIGWINCH/, 'pcntl_signal(SIGWINCH) is refused';
is $s->{pcntl_signal_usr2}, 'returned true', 'pcntl_signal(SIGUSR2) is allowed';
like $s->{pcntl_alarm}, qr/^Error: pcntl_alarm\(\) is not available/, 'pcntl_alarm() throws';
is $s->{set_time_limit}, 'returned false', 'set_time_limit(5) fails';
is $s->{ini_set_met}, 'returned false', "ini_set('max_execution_time', 5) fails";
is $s->{set_time_limit_0}, 'returned true', 'set_time_limit(0) is fine';
is $s->{met}, '0', 'max_execution_time stays 0';
