# Runs last: over the whole run no httpd child died from a signal (a crash
# after a response was sent would otherwise go unnoticed), and the server
# still answers on every worker.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request child_crashes);

plan tests => 4;

my @crashes = child_crashes(0);
is scalar(@crashes), 0, 'no httpd child crashed during the run'
    or diag join "\n", @crashes[0 .. ($#crashes > 4 ? 4 : $#crashes)];

is raw_request(undef, path => '/api/req')->{status}, 200, 'main worker still answers';
is raw_request('trueasync_stable', path => '/?n=last')->{status}, 200, 'stable worker still answers';
is raw_request('trueasync_guide', path => '/')->{status}, 200, 'guide worker still answers';
