# 10. echo / print / printf inside a handler go to that request's body, in
#     order with write().
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel);

plan tests => 5;

my $r = raw_request(undef, path => '/api/echo');
is $r->{status}, 200, '/api/echo -> 200';
is $r->{body}, "1-echo\n2-write\n3-print\n4-printf\n5-write\n6-echo\n",
   'echo/print/printf interleave with write() in order';

$r = raw_request(undef, path => '/api/echo-only');
is $r->{status}, 200, 'echo-only handler -> 200';
is $r->{body}, "only echo\n", 'echo-only body (implicit end)';

# concurrent requests: each one's echo output stays in its own response
my @res = parallel([ map { sub {
    my $r = raw_request(undef, path => '/api/echo');
    return { body => $r->{body} };
} } 1 .. 10 ], 20);
is scalar(grep { ($_->{body} // '') eq "1-echo\n2-write\n3-print\n4-printf\n5-write\n6-echo\n" } @res),
   10, 'echo output never leaks between concurrent requests';
