# 41. gethostbyname(), gethostbynamel(), gethostbyaddr() inside request
#     coroutines resolve through the reactor, with the same results as the
#     original functions give at worker boot.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);

plan tests => 9;

my $r = raw_request('trueasync_blocking', path => '/dns', timeout => 20);
is $r->{status}, 200, '/dns -> 200' or diag explain $r;
my $j = eval { json_decode($r->{body}) } // {};
my ($now, $boot) = ($j->{now} // {}, $j->{boot} // {});

is $now->{byname_localhost}{value}, '127.0.0.1', "gethostbyname('localhost') is 127.0.0.1";
ok ref $now->{bynamel_localhost}{value} eq 'ARRAY'
   && grep({ $_ eq '127.0.0.1' } @{ $now->{bynamel_localhost}{value} }),
   "gethostbynamel('localhost') lists 127.0.0.1";
is $now->{byname_invalid}{value}, 'no-such-host.invalid', 'an unresolvable name comes back unchanged';
ok JSON::PP::is_bool($now->{bynamel_invalid}{value}) && !$now->{bynamel_invalid}{value},
   'gethostbynamel() of an unresolvable name is false';
is $now->{byaddr_bad}{value}, JSON::PP::false(), 'gethostbyaddr() of a malformed address is false';
like $now->{byaddr_bad}{warning} // '', qr/not a valid IPv4 or IPv6 address/, 'with PHP\'s warning';
ok defined $now->{byaddr_v4}{value} && length $now->{byaddr_v4}{value},
   "gethostbyaddr('127.0.0.1') gives " . ($now->{byaddr_v4}{value} // 'undef');

is_deeply $now, $boot, 'every result, warning and error equals the original functions at boot'
    or diag explain $j;
