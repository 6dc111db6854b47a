# 13. A worker script that never calls HttpServer::onRequest(), and one with
#     a parse error: errors are logged (the parse error naming the file) and
#     their requests get 503. Other workers are unaffected.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request log_since wait_log);

plan tests => 7;

# these requests may also trigger the messages, so ask first, then read
my $r = raw_request('trueasync_noreg', path => '/', timeout => 15);
is $r->{status}, 503, 'worker without onRequest(): request -> 503';
$r = raw_request('trueasync_noreg', path => '/again', timeout => 15);
is $r->{status}, 503, 'worker without onRequest(): next request -> 503 too';

my $lvl = qr/\[(?:[\w.-]*:)?(?:warn|error|crit|alert|emerg)\]/;
my $log = wait_log(0, qr/no_onrequest\.php|onRequest/, 5) // log_since(0);
my @noreg = grep { /$lvl/ && /no_onrequest\.php|onRequest/i && !/parse_error\.php/ }
            split /\n/, $log;
ok scalar(@noreg), 'error_log has an error about the worker not calling onRequest()'
    or diag $log;
diag "noreg: $_" for @noreg[0 .. ($#noreg > 2 ? 2 : $#noreg)];

# logged at start-up: look before sending this worker any request
$log = wait_log(0, qr/parse_error\.php/, 5) // log_since(0);
my @parse = grep { /parse_error\.php/ } split /\n/, $log;
ok scalar(@parse), 'error_log names parse_error.php at start-up (before any request)'
    or diag $log;
like "@parse", qr/syntax error|parse error/i, '... reporting the syntax error';
diag scalar(@parse) . " error_log line(s) mention parse_error.php, "
   . scalar(@noreg) . " mention no_onrequest.php";

$r = raw_request('trueasync_parse', path => '/', timeout => 15);
is $r->{status}, 503, 'worker with a parse error: request -> 503';

# the other workers carry on
$r = raw_request(undef, path => '/api/req');
is $r->{status}, 200, 'main worker unaffected';
