# 9. Response API: status, set/add/remove/get headers, multiple Set-Cookie,
#    redirect, isHeadersSent, ValueError for invalid headers / statuses,
#    write() after end(), implicit end().
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode);

plan tests => 74;

sub hdr { TATest::Conn::hdr(@_) }

# ---------------------------------------------------------------- status
for my $code (201, 410, 503) {
    my $r = raw_request(undef, path => "/api/resp/status?code=$code");
    is $r->{status}, $code, "setStatus($code) -> $code on the wire";
    is hdr($r, 'X-Status-Before'), '200', 'getStatus() defaults to 200';
    is hdr($r, 'X-Status-After'), $code, 'getStatus() after setStatus()';
    is $r->{body}, "status $code\n", 'body';
}

# ---------------------------------------------------------------- headers
my $r = raw_request(undef, path => '/api/resp/headers');
is $r->{status}, 200, 'headers route -> 200';
is_deeply [ hdr($r, 'X-Replace') ], ['second'], 'setHeader() replaces';
is_deeply [ sort map { split /,\s*/ } hdr($r, 'X-Added') ], ['a1', 'a2'],
          'addHeader() appends';
ok !defined hdr($r, 'X-Removed'), 'removeHeader() removes';
my @cookies = hdr($r, 'Set-Cookie');
is scalar(@cookies), 2, 'two separate Set-Cookie header lines';
is_deeply [ sort @cookies ], ['c1=v1; Path=/', 'c2=v2; Path=/; HttpOnly'], 'Set-Cookie values';
ok !defined hdr($r, 'X-Too-Late'), 'header set after headers were sent never reaches the client';
my ($first, $json) = split /\n/, $r->{body}, 2;
is $first, 'first-line', 'first write';
my $j = eval { json_decode($json) } || {};
is $j->{get_replace}, 'second', 'getHeader() after replace';
is $j->{get_added}, 'a1, a2', 'getHeader() joins values with ", " (case-insensitive name)';
ok exists $j->{get_removed} && !defined $j->{get_removed}, 'getHeader() null after remove';
ok exists $j->{get_missing} && !defined $j->{get_missing}, 'getHeader() null when never set';
is $j->{get_cookie}, 'c1=v1; Path=/, c2=v2; Path=/; HttpOnly', 'getHeader(Set-Cookie) joined';
my %all = map { lc($_) => $j->{all}{$_} } keys %{ $j->{all} || {} };
is_deeply $all{'x-replace'}, ['second'], 'getHeaders() X-Replace list';
is_deeply $all{'x-added'}, ['a1', 'a2'], 'getHeaders() X-Added list';
is_deeply $all{'set-cookie'}, ['c1=v1; Path=/', 'c2=v2; Path=/; HttpOnly'], 'getHeaders() Set-Cookie list';
ok !exists $all{'x-removed'}, 'getHeaders() without removed header';
ok exists $j->{sent_before} && !$j->{sent_before}, 'isHeadersSent() false before write()';
ok $j->{sent_after_write}, 'isHeadersSent() true after write()';
isnt $j->{set_after_sent} // 'none', 'none', 'setHeader() after headers were sent throws';
diag "setHeader after sent threw: " . ($j->{set_after_sent} // 'undef');
is $j->{status}, 200, 'getStatus() 200';

$r = raw_request(undef, path => '/api/resp/sentflag');
is $r->{body}, "part1\nbefore=false after=true\n", 'isHeadersSent() before/after first write';

# ---------------------------------------------------------------- redirect
$r = raw_request(undef, path => '/api/resp/redirect?to=/target');
is $r->{status}, 302, 'redirect() default 302';
is hdr($r, 'Location'), '/target', 'Location header';
$r = raw_request(undef, path => '/api/resp/redirect?to=http://example.test/x&code=301');
is $r->{status}, 301, 'redirect(url, 301)';
is hdr($r, 'Location'), 'http://example.test/x', 'absolute Location';
$r = raw_request(undef, path => '/api/resp/redirect?to=/t2&code=307');
is $r->{status}, 307, 'redirect(url, 307)';
$r = raw_request(undef, path => '/api/resp/badredirect');
$j = eval { json_decode($r->{body}) } || {};
is $r->{status}, 200, 'invalid redirect codes leave the response alone';
is $j->{code200}, 'ValueError', 'redirect(url, 200) throws ValueError';
is $j->{code400}, 'ValueError', 'redirect(url, 400) throws ValueError';
is $j->{code299}, 'ValueError', 'redirect(url, 299) throws ValueError';
ok !defined hdr($r, 'Location'), 'no Location sent after failed redirect()';

# ---------------------------------------------------------------- invalid
$r = raw_request(undef, path => '/api/resp/invalid');
is $r->{status}, 200, 'invalid-header route -> 200';
$j = eval { json_decode($r->{body}) } || {};
for my $k (qw(name_space name_colon name_empty name_crlf value_crlf value_lf
              value_cr value_nul add_value_crlf)) {
    is $j->{$k}, 'ValueError', "invalid header ($k) throws ValueError";
}
is $j->{status_99}, 'ValueError', 'setStatus(99) throws ValueError';
is $j->{status_600}, 'ValueError', 'setStatus(600) throws ValueError';
is $j->{status_100} . '/' . $j->{status_599}, 'none/none', 'setStatus(100) and (599) accepted';
is $j->{status_after}, 200, 'status usable afterwards';
my @names = map { lc $_->[0] } @{ $r->{headers} };
my @bad = grep { /injected|bad|split|^x-crlf$|^x-lf$|^x-cr$|^x-nul$|^x-add-crlf$/ } @names;
is "@bad", '', 'none of the invalid headers (or injected lines) reached the client';
is hdr($r, 'X-Valid'), 'still-works', 'valid header after the failures is sent';
unlike join("\n", map { "$_->[0]: $_->[1]" } @{ $r->{headers} }), qr/Injected/i,
       'no header injection';

# ---------------------------------------------------------------- after end
my $id = "ae$$" . int(rand 1e6);
my $file = "/tmp/trueasync-test-$id.json";
unlink $file;
$r = raw_request(undef, path => "/api/resp/afterend?id=$id");
is $r->{status}, 200, 'end() then more calls -> 200';
is $r->{body}, "ended-body\n", 'nothing written after end() reached the client';
my $rep;
for (1 .. 50) { last if -s $file; sleep 0.05 }
if (open my $fh, '<', $file) { local $/; $rep = eval { json_decode(<$fh>) } }
unlink $file;
ok $rep, 'handler reported what happened after end()';
$rep ||= {};
isnt $rep->{write_after_end} // 'none', 'none', 'write() after end() throws';
diag "write() after end() threw: " . ($rep->{write_after_end} // 'undef');
is $rep->{second_end}, 'none', 'second end() is a no-op';
isnt $rep->{header_after_end} // 'none', 'none', 'setHeader() after end() throws';

# ---------------------------------------------------------------- implicit end
$r = raw_request(undef, path => '/api/resp/noend');
is $r->{status}, 200, 'handler without end() -> 200';
is $r->{body}, "implicit end\n", 'handler without end(): body delivered';
is hdr($r, 'X-No-End'), 'yes', 'handler without end(): headers delivered';
$r = raw_request(undef, path => '/api/resp/noend-empty');
is $r->{status}, 202, 'handler with only setStatus()/setHeader() -> its status';
is hdr($r, 'X-No-End'), 'empty', '... and its header';
is $r->{body}, '', '... and an empty body';
$r = raw_request(undef, path => '/api/resp/status-only');
is $r->{status}, 204, 'setStatus(204) + end() -> 204';
