# 17. Opcache is really enabled inside the worker.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);

plan tests => 4;

my $r = raw_request(undef, path => '/api/opcache');
is $r->{status}, 200, '/api/opcache -> 200';
my $j = eval { json_decode($r->{body}) } || {};
diag 'opcache report: ' . ($r->{body} // '');
ok $j->{function_exists}, 'opcache_get_status() exists (Zend OPcache loaded)';
ok JSON::PP::is_bool($j->{enabled}) && $j->{enabled},
   "opcache_get_status()['opcache_enabled'] === true";
ok $j->{zts}, 'worker PHP is ZTS';
