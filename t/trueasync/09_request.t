# 8. Request API: method, uri, host, headers, remote addr, protocol version,
#    scheme, query params, cookies, body / parsed body defaults.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode hostport);

plan tests => 34;

my (undef, $port) = hostport(undef);

my $path = '/api/req?a=1&b[]=2&b[]=3&sp=x%20y&m[k]=v&e=';
my $r = raw_request(undef, path => $path, headers => [
    'X-Test-One' => 'v1',
    'X-Multi'    => 'one',
    'X-Multi'    => 'two',
    'Cookie'     => 'c1=v1; c2=hello%20world',
    'User-Agent' => 'ta-test/1.0',
]);
is $r->{status}, 200, 'GET /api/req -> 200';
my $j = eval { json_decode($r->{body}) } || {};
is $j->{method}, 'GET', 'getMethod()';
is $j->{uri}, $path, 'getUri() is the request target as sent';
is $j->{host}, "127.0.0.1:$port", 'getHost() is the Host header';
is $j->{h_lc}, 'v1', 'getHeader() lower-case name';
is $j->{h_uc}, 'v1', 'getHeader() upper-case name';
is $j->{h_multi}, 'one, two', 'getHeader() joins repeated headers with ", "';
ok exists $j->{h_missing} && !defined $j->{h_missing}, 'getHeader() of a missing header is null';
ok $j->{headers_is_array} && $j->{headers_all_strings}, 'getHeaders() is array<string,string>';
my %h = map { lc($_) => $j->{headers}{$_} } keys %{ $j->{headers} || {} };
is $h{'x-test-one'}, 'v1', 'getHeaders() has X-Test-One';
is $h{'user-agent'}, 'ta-test/1.0', 'getHeaders() has User-Agent';
is $h{'host'}, "127.0.0.1:$port", 'getHeaders() has Host';
is $h{'x-multi'}, 'one, two', 'getHeaders() joins repeated headers';
is $j->{remote}, '127.0.0.1', 'getRemoteAddr()';
is $j->{proto}, 'HTTP/1.1', 'getProtocolVersion() HTTP/1.1 (as FrankenPHP)';
is $j->{scheme}, 'http', 'getScheme()';
is_deeply $j->{query}, { a => '1', b => ['2', '3'], sp => 'x y', m => { k => 'v' }, e => '' },
    'getQueryParams() like $_GET';
is_deeply $j->{cookies}, { c1 => 'v1', c2 => 'hello world' }, 'getCookies()';
is $j->{body}, '', 'getBody() empty for GET';
ok exists $j->{parsed} && !defined $j->{parsed}, 'getParsedBody() null for GET';
ok +((ref $j->{files} eq 'ARRAY' && !@{ $j->{files} })
     || (ref $j->{files} eq 'HASH' && !%{ $j->{files} })), 'getUploadedFiles() empty array';

# HTTP/1.0
$r = raw_request(undef, path => '/api/req?v=10', proto => '1.0');
$j = eval { json_decode($r->{body}) } || {};
is $j->{proto}, 'HTTP/1.0', 'getProtocolVersion() HTTP/1.0';

# explicit Host header
$r = raw_request(undef, path => '/api/req', headers => ['Host' => 'example.test']);
$j = eval { json_decode($r->{body}) } || {};
is $j->{host}, 'example.test', 'getHost() with a custom Host header';

# other methods with bodies
for my $m (qw(POST PUT PATCH DELETE)) {
    $r = raw_request(undef, method => $m, path => '/api/req?x=1', body => "{\"m\":\"$m\"}",
                     headers => ['Content-Type' => 'application/json']);
    $j = eval { json_decode($r->{body}) } || {};
    is "$m " . ($j->{method} // '') . ' ' . ($j->{body} // ''), "$m $m {\"m\":\"$m\"}",
       "$m: getMethod() and getBody()";
}
ok exists $j->{parsed} && !defined $j->{parsed}, 'getParsedBody() null for JSON';

# no query string, no cookies
$r = raw_request(undef, path => '/api/req');
$j = eval { json_decode($r->{body}) } || {};
is $j->{uri}, '/api/req', 'getUri() without query';
ok ref $j->{query} && !%{ ref $j->{query} eq 'HASH' ? $j->{query} : {} } && !(ref $j->{query} eq 'ARRAY' && @{ $j->{query} }),
   'getQueryParams() empty';
ok ref $j->{cookies} && !(ref $j->{cookies} eq 'HASH' ? %{ $j->{cookies} } : @{ $j->{cookies} }),
   'getCookies() empty';

# percent-encoded path kept as sent
$r = raw_request(undef, path => '/api/req?q=%C3%A9&plus=a+b');
$j = eval { json_decode($r->{body}) } || {};
is $j->{uri}, '/api/req?q=%C3%A9&plus=a+b', 'getUri() keeps percent-encoding';
is $j->{query}{q}, "\x{e9}", 'query value percent-decoded';
is $j->{query}{plus}, 'a b', 'query + decoded as space';
