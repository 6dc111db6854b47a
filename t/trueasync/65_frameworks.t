# Code nobody here wrote (issue 10): a Symfony 5.4 application (HttpKernel,
# Routing, HttpFoundation with its native session storage) and a Slim 3 one,
# both from Debian's packages, served unmodified through superglobals,
# header(), setcookie(), sessions and echo. Concurrent requests on one
# thread keep to their own values.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel json_decode);

my $S = 'trueasync_symfony';
sub hdr { scalar TATest::Conn::hdr(@_) }

my $r = raw_request($S, path => '/hello/world?x=1');
is $r->{status}, 200, 'Symfony: a route with a parameter';
is $r->{body}, 'Hello world from /hello/world', 'Symfony: the parameter and the path info from $_SERVER';
like hdr($r, 'Content-Type'), qr{^text/html; charset=UTF-8}, 'Symfony: its Content-Type';

$r = raw_request($S, path => '/json?a[]=1&a[]=2&b=c', headers => ['X-Test' => 'hv']);
is_deeply json_decode($r->{body}), { query => { a => [1, 2], b => 'c' }, method => 'GET', header => 'hv' },
    'Symfony: JSON of the query and a header';
is hdr($r, 'Content-Type'), 'application/json', 'Symfony: JsonResponse\'s Content-Type';

$r = raw_request($S, method => 'POST', path => '/form', body => 'name=Zoe&tags[]=a&tags[]=b',
                 headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
is $r->{body}, 'name=Zoe tags=a,b', 'Symfony: a form POST';
$r = raw_request($S, method => 'GET', path => '/form');
is $r->{status}, 405, 'Symfony: a method the route does not allow: 405';
is raw_request($S, path => '/nothing-here')->{status}, 404, 'Symfony: an unknown route: 404';

my $b = 'sfb0undary';
my $mp = join "\r\n", "--$b", 'Content-Disposition: form-data; name="doc"; filename="notes.txt"',
                      'Content-Type: text/plain', '', 'uploaded content', "--$b--", '';
$r = raw_request($S, method => 'POST', path => '/upload', body => $mp,
                 headers => ['Content-Type' => "multipart/form-data; boundary=$b"]);
is_deeply json_decode($r->{body}), { name => 'notes.txt', size => 16, body => 'uploaded content' },
    'Symfony: a file upload, moved by UploadedFile::move() (move_uploaded_file)';

$r = raw_request($S, path => '/redirect');
is $r->{status}, 302, 'Symfony: RedirectResponse';
is hdr($r, 'Location'), '/hello/redirected', 'Symfony: its Location';

$r = raw_request($S, path => '/cookie');
is $r->{body}, 'had=none', 'Symfony: no cookie yet';
like hdr($r, 'Set-Cookie'), qr/^flavor=chocolate; path=\/; httponly; samesite=lax/i, 'Symfony: a cookie set';
is raw_request($S, path => '/cookie', headers => [Cookie => 'flavor=vanilla'])->{body}, 'had=vanilla',
    'Symfony: the cookie read back from the request';

$r = raw_request($S, path => '/stream');
is $r->{body}, 'part1;part2', 'Symfony: a StreamedResponse';

# The session counter: per client, across requests (two threads: requests
# of one client may land on either)
sub sess { my ($c, $ms) = @_;
    my $x = raw_request($S, path => '/session' . ($ms ? "?ms=$ms" : ''), headers => [$c ? (Cookie => $c) : ()]);
    my ($sc) = map { /^(PHPSESSID=[^;]+)/ ? $1 : () } TATest::Conn::hdr($x, 'Set-Cookie');
    return ($x->{body}, $sc) }
my ($s1, $ca) = sess();
is $s1, 'n=1', 'Symfony session: a first request';
ok $ca, 'Symfony session: its cookie';
my @a = map { (sess($ca))[0] } 1 .. 4;
is_deeply \@a, ['n=2', 'n=3', 'n=4', 'n=5'], 'Symfony session: the same client counts on';
my ($t1, $cb) = sess();
is $t1, 'n=1', 'Symfony session: another client starts at 1';
isnt $cb, $ca, 'Symfony session: with its own id';
is((sess($ca))[0], 'n=6', 'Symfony session: the first client is unaffected');
# 20 clients at once, each holding its session across a wait
my @jobs = map { my $i = $_; sub {
    my ($x, $c) = sess(undef);
    my ($y) = sess($c, 100);
    { first => $x, second => $y } } } 1 .. 20;
my @res = parallel(\@jobs, 40);
is scalar(grep { ($_->{first} // '') eq 'n=1' && ($_->{second} // '') eq 'n=2' } @res), 20,
    'Symfony session: 20 concurrent clients each count 1, 2 in their own session';

# Slim 3
my $L = 'trueasync_slim';
$r = raw_request($L, path => '/hello/slim');
is $r->{status}, 200, 'Slim: a route with a parameter';
is $r->{body}, 'Hello slim', 'Slim: its body';
$r = raw_request($L, path => '/json?k=v', headers => ['X-Test' => 'h']);
is_deeply json_decode($r->{body}), { query => { k => 'v' }, header => 'h' }, 'Slim: JSON of the query and a header';
like hdr($r, 'Content-Type'), qr{^application/json}, 'Slim: withJson()\'s Content-Type';
$r = raw_request($L, method => 'POST', path => '/form', body => 'name=Ada',
                 headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
is $r->{body}, 'name=Ada', 'Slim: a form POST (getParsedBody)';
$r = raw_request($L, path => '/redirect');
is $r->{status}, 302, 'Slim: withRedirect()';
is hdr($r, 'Location'), '/hello/redirected', 'Slim: its Location';
is raw_request($L, path => '/none')->{status}, 404, 'Slim: an unknown route: 404';
@res = parallel([map { my $i = $_; sub { raw_request($L, path => "/wait?ms=100&id=w$i")->{body} } } 1 .. 20], 30);
is scalar(grep { ($res[$_ - 1] // '') eq "waited w$_" } 1 .. 20), 20,
    'Slim: 20 requests waiting on one thread, one after another as FrankenPHP runs them, each get their own query';

done_testing();
