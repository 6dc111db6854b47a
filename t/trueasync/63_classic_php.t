# Plain PHP inside coroutines (issue 10): superglobals, php://input,
# header()/setcookie()/http_response_code(), headers_sent(),
# header_register_callback(), exit() and register_shutdown_function()
# follow the request whose coroutine runs. Each case script is also run by
# Debian's php-cgi with the same request: PHP's own result is the reference.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel top_dir json_decode log_mark log_since);
use Time::HiRes ();

my $cgi = '/usr/bin/php-cgi8.2';
-x $cgi or die "$cgi missing (Debian package php8.2-cgi; make setup installs it)";
my $top = top_dir();
my $cases = "$top/t/php/inc/classic_cases";

# php-cgi gets the worker's own settings for what these cases depend on
my @keys = qw(variables_order request_order post_max_size max_input_vars default_charset
              default_mimetype expose_php file_uploads upload_max_filesize enable_post_data_reading
              precision serialize_precision arg_separator.input);
my $ini = json_decode(raw_request('trueasync_classic', path => '/ini?keys=' . join(',', @keys))->{body});
# (an empty one is left at PHP's default: ini_get() gives '' for unset too)
my @d = map { ('-d', "$_=$ini->{$_}") } grep { length($ini->{$_} // '') } @keys;

# The request as php-cgi sees it (CGI/1.1 environment, body on stdin).
sub cgi_run {
    my ($case, %a) = @_;
    my $method = $a{method} || 'GET';
    my $body = $a{body} // '';
    my %h = @{ $a{headers} || [] };
    local %ENV = (PATH => $ENV{PATH}, GATEWAY_INTERFACE => 'CGI/1.1', REDIRECT_STATUS => '200',
                  REQUEST_METHOD => $method, SCRIPT_FILENAME => "$cases/$case.php",
                  SCRIPT_NAME => "/case/$case", REQUEST_URI => "/case/$case" . ($a{query} ? "?$a{query}" : ''),
                  QUERY_STRING => $a{query} // '', SERVER_PROTOCOL => 'HTTP/1.1',
                  (length $body ? (CONTENT_LENGTH => length $body) : ()));
    for my $n (keys %h) {
        my $k = uc $n; $k =~ tr/-/_/;
        if ($k eq 'CONTENT_TYPE') { $ENV{CONTENT_TYPE} = $h{$n} }
        elsif ($k ne 'AUTHORIZATION') { $ENV{"HTTP_$k"} = $h{$n} }
    }
    if (my $auth = $h{Authorization}) {        # what Apache gives php-cgi is not comparable: decode like mod_php
        require MIME::Base64;
        my ($u, $p) = split /:/, MIME::Base64::decode_base64($auth =~ s/^Basic //r), 2;
        $ENV{PHP_AUTH_USER} = $u; $ENV{PHP_AUTH_PW} = $p;
    }
    my $in = "/tmp/ta-cgi-in.$$";
    open my $fh, '>', $in or die; binmode $fh; print $fh $body; close $fh;
    my $out = `$cgi -n @{[ join ' ', map { "'$_'" } @d ]} -d cgi.force_redirect=0 -d display_errors=0 -d log_errors=0 < $in`;
    unlink $in;
    my ($head, $b) = split /\r\n\r\n/, $out, 2;
    my %r = (status => 200, headers => [], body => $b // '');
    for (split /\r\n/, $head) {
        my ($n, $v) = /^([^:]+):\s*(.*)$/ or next;
        if (lc $n eq 'status') { ($r{status}) = $v =~ /^(\d+)/; next }
        push @{ $r{headers} }, [$n, $v];
    }
    return \%r;
}

sub ours {
    my ($case, %a) = @_;
    return raw_request('trueasync_classic', method => $a{method} || 'GET',
                       path => "/case/$case" . ($a{query} ? "?$a{query}" : ''),
                       headers => $a{headers} || [], (defined $a{body} ? (body => $a{body}) : ()));
}

sub hv { my ($r, $n) = @_; [ sort map { $_->[1] } grep { lc $_->[0] eq lc $n } @{ $r->{headers} } ] }

sub diag_diff {
    my ($want, $got) = @_;
    my ($a, $b) = ("/tmp/ta-want.$$", "/tmp/ta-got.$$");
    for ([$a, $want], [$b, $got]) { open my $fh, '>', $_->[0] or die; print $fh $_->[1]; close $fh }
    diag "diff php-cgi ours:\n" . `diff -u $a $b`;
    unlink $a, $b;
}

sub same {
    my ($case, $what, %a) = @_;
    my $want = cgi_run($case, %a);
    my $got = ours($case, %a);
    if ($a{status}) {
        is $got->{status}, $a{status}, "$case ($what): status $a{status} ($a{why})";
    } else {
        is $got->{status}, $want->{status}, "$case ($what): status $want->{status} as under php-cgi";
    }
    # X-Powered-By names PHP's patch level, which differs between the builds
    s{PHP\\?/8\.\d+\.\d+}{PHP/8.x}g for $got->{body}, $want->{body};
    is $got->{body}, $want->{body}, "$case ($what): the same body as under php-cgi"
        or diag_diff($want->{body}, $got->{body});
    return ($got, $want);
}

my $boundary = 'XyZ123';
my $multipart = join "\r\n",
    "--$boundary", 'Content-Disposition: form-data; name="title"', '', 'A title',
    "--$boundary", 'Content-Disposition: form-data; name="tags[]"', '', 't1',
    "--$boundary", 'Content-Disposition: form-data; name="tags[]"', '', 't2',
    "--$boundary", 'Content-Disposition: form-data; name="doc"; filename="a.txt"', 'Content-Type: text/plain', '', "file body\nline 2",
    "--$boundary", 'Content-Disposition: form-data; name="empty"; filename=""', 'Content-Type: application/octet-stream', '', '',
    "--$boundary--", '';

same('superglobals', 'GET with arrays in the query and cookies',
     query => 'a[]=1&a[]=2&b[x][y]=z&c=%20sp+ace&d', headers => [Cookie => 'k1=v1; arr[i]=j; sp=a%20b', 'X-Custom' => 'yes']);
same('superglobals', 'urlencoded POST',
     method => 'POST', query => 'q=1', body => 'p1=v1&p2[]=x&p2[]=y&q=from-post',
     headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
same('superglobals', 'multipart POST with an upload',
     method => 'POST', body => $multipart, headers => ['Content-Type' => "multipart/form-data; boundary=$boundary"]);
same('superglobals', 'POST over post_max_size (64K)', method => 'POST', body => 'big=' . ('x' x 70000),
     headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
same('superglobals', 'more fields than max_input_vars (40)', method => 'POST',
     body => join('&', map { "f$_=$_" } 1 .. 60), headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
same('superglobals', 'JSON body through php://input',
     method => 'POST', body => '{"json":true}', headers => ['Content-Type' => 'application/json']);
same('superglobals', 'PUT body through php://input',
     method => 'PUT', body => 'raw put body', headers => ['Content-Type' => 'text/plain']);
same('superglobals', 'HTTP Basic credentials',
     headers => [Authorization => 'Basic ' . do { require MIME::Base64; MIME::Base64::encode_base64('user:pa:ss', '') }]);

my ($g, $w) = same('headers', 'header(), header_remove(), setcookie(), http_response_code()');
for my $h (qw(X-A X-B X-C X-Injected Set-Cookie)) {
    is_deeply hv($g, $h), hv($w, $h), "headers: $h as php-cgi sends it";
}
($g, $w) = same('exit', 'exit() with output, status, headers and a shutdown function');
is_deeply hv($g, 'X-Exit'), ['yes'], 'exit: the header set before exit() is sent';
($g, $w) = same('location', 'Location on GET');
is_deeply hv($g, 'Location'), ['/elsewhere'], 'location: the Location header';
same('location', 'Location on POST', method => 'POST', body => 'x=1',
     headers => ['Content-Type' => 'application/x-www-form-urlencoded'], status => 303,
     why => 'PHP\'s rule for HTTP/1.1 as mod_php applies it; php-cgi is never told the protocol version and says 302');
same('status_line', 'an HTTP/1.1 status line through header()');
($g, $w) = same('callback', 'header_register_callback() and headers_sent() with file and line');
is_deeply hv($g, 'X-From-Callback'), hv($w, 'X-From-Callback'), 'callback: its header sent as php-cgi does';
is_deeply hv($g, 'X-After-Output'), [], 'callback: a header after output is not sent';
same('shutdown', 'register_shutdown_function(), also one registered by another');
same('exception_handler', 'an uncaught exception goes to set_exception_handler(), then the shutdown functions');
($g, $w) = same('ini', 'ini_set(), ini_get(), ini_restore()');
is_deeply hv($g, 'Content-Type'), hv($w, 'Content-Type'), 'ini: default_charset set at run time applies to the response';

($g, $w) = same('gzip', 'ob_gzhandler with Accept-Encoding: gzip', headers => ['Accept-Encoding' => 'gzip']);
for my $h (qw(Content-Encoding Vary)) {
    is_deeply hv($g, $h), hv($w, $h), "gzip: $h as php-cgi sends it";
}

same('rewrite', 'output_add_rewrite_var()');
{
    my @rj = (sub { raw_request('trueasync_classic', path => '/rewrite-hold?v=s3cr3t')->{body} },
              sub { select undef, undef, undef, 0.05; raw_request('trueasync_classic', path => '/links')->{body} });
    my ($mine, $theirs) = parallel(\@rj, 20);
    is $mine, '<form action="/mine"><input type="hidden" name="secret" value="s3cr3t" /></form>',
        'output_add_rewrite_var(): the request\'s own form gets its var after a wait';
    is $theirs, '<form action="/theirs"></form>', 'another request running meanwhile gets none of it';
}

# two requests compressing at once on one thread: each its own stream and encoding
{
    require IO::Uncompress::Gunzip;
    my @gj = map { my $i = $_; sub {
        select undef, undef, undef, 0.03 * $i;
        my $r = raw_request('trueasync_classic', path => "/gz-hold?id=g$i",
                            headers => [$i % 2 ? ('Accept-Encoding' => 'gzip') : ()]);
        { ce => scalar TATest::Conn::hdr($r, 'Content-Encoding'), b => unpack('H*', $r->{body}) } } } 1 .. 6;
    my @gr = parallel(\@gj, 20);
    my $ok = 0;
    for my $i (1 .. 6) {
        my $r = $gr[$i - 1];
        my $body = pack 'H*', $r->{b} // '';
        my $want = ("g$i;" x 300) . "end-g$i";
        if ($i % 2) {
            my $plain;
            IO::Uncompress::Gunzip::gunzip(\$body => \$plain);
            $ok++ if ($r->{ce} // '') eq 'gzip' && ($plain // '') eq $want;
        } else {
            $ok++ if !defined $r->{ce} && $body eq $want;
        }
    }
    is $ok, 6, 'ob_gzhandler: interleaved requests each get their own stream (gzip only where asked for)';
}

# sessions: the files handler, a cookie, the cache limiter's headers
my $sdir = "/tmp/ta-sess-cgi.$$";
mkdir $sdir;
push @d, '-d', "session.save_path=$sdir";
($g, $w) = same('session', 'a new session');
for my $h (qw(Cache-Control Pragma Expires)) {
    is_deeply hv($g, $h), hv($w, $h), "session: $h as php-cgi sends it";
}
my ($gc) = hv($g, 'Set-Cookie')->[0] // '';
my ($wc) = hv($w, 'Set-Cookie')->[0] // '';
s/=[^;]+/=ID/ for $gc, $wc;
is $gc, $wc, "session: the cookie as php-cgi sets it ($wc)";
system 'rm', '-rf', $sdir;

# ini_set() is the request's: not seen by one running meanwhile, undone after
my @ij = (sub { raw_request('trueasync_classic', path => '/ini-hold?ms=300')->{body} },
          sub { select undef, undef, undef, 0.1; raw_request('trueasync_classic', path => '/ini-peek')->{body} });
my ($held, $peek) = parallel(\@ij, 20);
my $base = json_decode(cgi_run('ini_base')->{body});
is_deeply json_decode($held), ['0.3333', '4', 'ISO-8859-1', 'Asia/Tokyo', '/tmp/ta-include'],
    'the request keeps its settings across its wait';
is_deeply json_decode($peek), $base, 'a request running meanwhile sees the defaults (as php-cgi gives them)';
is_deeply json_decode(raw_request('trueasync_classic', path => '/ini-peek')->{body}), $base,
    'after the request ended its settings are undone';

# $_SERVER: Apache's environment (SetEnv, mod_rewrite E=) and the CGI variables
my $env = json_decode(raw_request('trueasync_classic', path => '/env/x?y=1',
                                  headers => ['X-Spoof' => 'dash', 'X_Spoof' => 'underscore'])->{body});
my (undef, $port) = TATest::hostport('trueasync_classic');
is $env->{TA_FROM_SETENV}, 'set-by-apache', '$_SERVER has what SetEnv set';
is $env->{TA_FROM_REWRITE}, 'rewritten', '$_SERVER has what mod_rewrite\'s E= set';
is $env->{REQUEST_URI}, '/env/x?y=1', 'REQUEST_URI';
is $env->{QUERY_STRING}, 'y=1', 'QUERY_STRING';
is $env->{SCRIPT_FILENAME}, "$top/t/php/classic.php", 'SCRIPT_FILENAME is the worker script';
is $env->{SCRIPT_NAME}, '/classic.php', 'SCRIPT_NAME: the script (outside the document root: its file name)';
is $env->{PHP_SELF}, '/classic.php', 'PHP_SELF';
is $env->{SERVER_PORT}, $port, 'SERVER_PORT';
is $env->{SERVER_PROTOCOL}, 'HTTP/1.1', 'SERVER_PROTOCOL';
like $env->{SERVER_SOFTWARE}, qr/^Apache/, 'SERVER_SOFTWARE is Apache\'s banner';
is $env->{REMOTE_ADDR}, '127.0.0.1', 'REMOTE_ADDR';
like $env->{REMOTE_PORT}, qr/^\d+$/, 'REMOTE_PORT';
is $env->{REQUEST_SCHEME}, 'http', 'REQUEST_SCHEME';
is $env->{GATEWAY_INTERFACE}, 'CGI/1.1', 'GATEWAY_INTERFACE';
is $env->{HTTPS}, undef, 'no HTTPS on plain HTTP';
is $env->{HTTP_HOST}, "127.0.0.1:$port", 'HTTP_HOST';
is $env->{HTTP_X_SPOOF}, 'dash', 'a header with "_" in its name cannot pose as one with "-" (Apache drops it)';
is $env->{getallheaders}{'X-Spoof'}, 'dash', 'getallheaders() lists the request headers';

# over TLS: HTTPS and mod_ssl's variables (SSLOptions +StdEnvVars)
{
    my (undef, $tp) = TATest::hostport('trueasync_classic_tls');
    my $tls = json_decode(`curl -sk --max-time 10 https://127.0.0.1:$tp/env` || '{}');
    is $tls->{HTTPS}, 'on', 'HTTPS is "on" over TLS';
    is $tls->{REQUEST_SCHEME}, 'https', 'REQUEST_SCHEME https';
    like $tls->{SSL_PROTOCOL} // '', qr/^TLSv1\.[23]$/, "mod_ssl's SSL_PROTOCOL";
    ok length($tls->{SSL_CIPHER} // ''), "mod_ssl's SSL_CIPHER";
}

# Nothing set: defaults, nothing left over from the requests before
is raw_request('trueasync_classic', path => '/plain')->{body}, '[[],[],[],200,false,1]',
    'a request that sets nothing: empty superglobals, 200, headers not sent, only X-Powered-By listed';
my $sp = raw_request('trueasync_classic', path => '/spawned?v=mine', headers => ['X-V' => 'hv']);
is TATest::Conn::hdr($sp, 'X-Spawned'), 'mine/hv', 'a coroutine spawned by the request sees its $_GET and $_SERVER';
my $mark = log_mark();
my $es = raw_request('trueasync_classic', path => '/exit-spawned');
is $es->{body}, 'child;parent goes on', 'exit() in a spawned coroutine ends only that coroutine';
is raw_request('trueasync_classic', path => '/case/exit')->{status}, 201, 'exit() in the handler ends the request normally';
unlike log_since($mark), qr/UnwindExit|Uncaught/, 'exit() is not logged as an error';

# Cross-talk: 50 at once on ONE thread, each with its own query, cookie,
# POST field and header, each waiting 100 ms inside an ob_start() template.
my @jobs = map { my $i = $_; sub {
    my $r = raw_request('trueasync_classic', method => 'POST', path => "/talk?id=r$i",
                        headers => [Cookie => "c=cookie$i", 'X-Talk' => "hdr$i",
                                    'Content-Type' => 'application/x-www-form-urlencoded'],
                        body => "p=post$i");
    { s => $r->{status}, b => $r->{body}, id => scalar TATest::Conn::hdr($r, 'X-Id'),
      seen => scalar TATest::Conn::hdr($r, 'Set-Cookie') } } } 1 .. 50;
my @res = parallel(\@jobs, 60);
my ($ok, $bad) = (0, '');
for my $i (1 .. 50) {
    my $r = $res[$i - 1];
    my $want = "<p>id=r$i cookie=cookie$i post=post$i after id=r$i late=r$i cookie=cookie$i qs=id=r$i hdr=hdr$i req=r$i "
             . "session=r$i</p>";
    if (($r->{b} // '') eq $want && ($r->{id} // '') eq "r$i" && ($r->{seen} // '') =~ /(?:^|, )seen=r$i(?:$|;)/
        && ($r->{s} // 0) == 200 + $i % 4) { $ok++ }
    else { $bad .= " r$i: " . TATest::json_encode($r) }
}
is $ok, 50, '50 interleaved requests each got exactly their own values, headers, cookie, session and status' or diag $bad;

# flush() sends what was written so far, even if the handler then computes
{
    my $c = TATest::Conn->new('trueasync_classic');
    my $t0 = Time::HiRes::time();
    $c->send_request(path => '/flush');
    my $fr = $c->read_response(timeout => 10);
    $c->close;
    is $fr->{body}, 'first;second', 'flush(): the whole body';
    my $first = @{ $fr->{chunks} } ? $fr->{chunks}[0]{t} - $t0 : 99;
    cmp_ok $first, '<', 0.25, sprintf('flush(): the first part arrived before the 400 ms computation ended (%.3f s)', $first);
}

# headers_send(103): Early Hints before the final response, HTTP/1.1 and h2
{
    my $c = TATest::Conn->new('trueasync_classic');
    $c->send_request(path => '/early');
    my $t0 = Time::HiRes::time();
    my $hint = $c->read_response(timeout => 10);
    my $t_hint = Time::HiRes::time() - $t0;
    my $final = $c->read_response(timeout => 10);
    $c->close;
    is $hint->{status}, 103, 'headers_send(103) sends 103 Early Hints';
    is TATest::Conn::hdr($hint, 'Link'), '</style.css>; rel=preload; as=style', 'with the Link header set before it';
    cmp_ok $t_hint, '<', 0.09, sprintf('at once, before the handler goes on (%.3f s)', $t_hint);
    is $final->{status}, 200, 'then the final response';
    is $final->{body}, 'final after 103', 'with its body (headers_send() returned 103)';
    is TATest::Conn::hdr($final, 'Link'), '</style.css>; rel=preload; as=style', 'the final response keeps the Link header';
    is TATest::Conn::hdr($final, 'X-Final'), '1', 'and has the headers set afterwards';
    my ($h, $p) = TATest::hostport('trueasync_classic');
    my $v = `curl -s -v --max-time 10 --http2-prior-knowledge http://$h:$p/early 2>&1`;
    like $v, qr{^< HTTP/2 103}m, 'over HTTP/2 too (h2c)';
    like $v, qr{^< HTTP/2 200}m, 'followed by the final response over HTTP/2';
    is raw_request('trueasync_classic', path => '/late-hints')->{body}, 'x|0',
        'after the head went out headers_send() sends nothing and returns 0';
}

# Response::sendFile(): Apache serves the file, as its default handler would
{
    my $file = "$top/t/php/sendfile/doc.txt";
    my $want = do { local (@ARGV, $/) = $file; <> };
    my $f = raw_request('trueasync_classic', path => '/send?f=doc.txt');
    is $f->{status}, 200, 'sendFile(): 200';
    is $f->{body}, $want, 'sendFile(): the file is the body, nothing echoed after it';
    is TATest::Conn::hdr($f, 'Content-Length'), length $want, 'sendFile(): Content-Length';
    like TATest::Conn::hdr($f, 'Content-Type') // '', qr{^text/plain}, 'sendFile(): the type from mod_mime';
    my $etag = TATest::Conn::hdr($f, 'ETag');
    my $lm = TATest::Conn::hdr($f, 'Last-Modified');
    ok $etag && $lm, 'sendFile(): ETag and Last-Modified';
    is TATest::Conn::hdr($f, 'Accept-Ranges'), 'bytes', 'sendFile(): Accept-Ranges';
    my $rg = raw_request('trueasync_classic', path => '/send?f=doc.txt', headers => [Range => 'bytes=10-19']);
    is $rg->{status}, 206, 'sendFile(): a Range request gets 206';
    is $rg->{body}, substr($want, 10, 10), 'sendFile(): with those bytes';
    is raw_request('trueasync_classic', path => '/send?f=doc.txt', headers => ['If-None-Match' => $etag])->{status},
        304, 'sendFile(): If-None-Match with its ETag: 304';
    is raw_request('trueasync_classic', path => '/send?f=doc.txt', headers => ['If-Modified-Since' => $lm])->{status},
        304, 'sendFile(): If-Modified-Since: 304';
    my $ty = raw_request('trueasync_classic', path => '/send?f=doc.txt&type=application/x-mine');
    is TATest::Conn::hdr($ty, 'Content-Type'), 'application/x-mine', 'sendFile(): the type given';
    like raw_request('trueasync_classic', path => '/send?f=../classic.php')->{body},
        qr/^RuntimeException: Cannot send .* outside every TrueAsyncSendFilePath directory$/,
        'sendFile(): a path outside TrueAsyncSendFilePath is refused with an exception';
    like raw_request('trueasync_classic', path => '/send?f=none.txt')->{body},
        qr/^RuntimeException: Cannot send .*: no such file$/, 'sendFile(): a missing file is refused';
}

# Sessions belong to the request: one client's counter goes on, another
# client gets its own; two requests of one session are serialized, while
# the thread goes on serving others.
sub sess { my ($cookie, $ms) = @_;
    my $r = raw_request('trueasync_classic', path => '/sess?ms=' . ($ms // 0),
                        headers => [$cookie ? (Cookie => $cookie) : ()]);
    my $j = eval { json_decode($r->{body}) } || {};
    my ($sc) = map { /^(PHPSESSID=[^;]+)/ ? $1 : () } TATest::Conn::hdr($r, 'Set-Cookie');
    return ($j, $sc) }
my ($a1, $ca) = sess();
ok $ca, 'a first request gets a session cookie';
my ($a2) = sess($ca);
my ($a3) = sess($ca);
is_deeply [map { $_->{n} } $a1, $a2, $a3], [1, 2, 3], 'one client\'s counter counts 1, 2, 3';
is $a3->{id}, $a1->{id}, 'with the same session id';
my ($b1, $cb) = sess();
is $b1->{n}, 1, 'a second client without a cookie starts at 1';
isnt $b1->{id}, $a1->{id}, 'with an id of its own';
my $t0 = time;
my @sj = (sub { my ($j) = sess($ca, 300); $j }, sub { select undef, undef, undef, 0.05; my ($j) = sess($ca, 300); $j },
          sub { select undef, undef, undef, 0.1; my $t = Time::HiRes::time(); my $r = raw_request('trueasync_classic', path => '/nosess');
                { body => $r->{body}, t => Time::HiRes::time() - $t } });
my $st = Time::HiRes::time();
my @sr = parallel(\@sj, 30);
my $took = Time::HiRes::time() - $st;
is_deeply [sort map { $_->{n} } @sr[0, 1]], [4, 5], 'two concurrent requests of one session each saw the other\'s write (4 and 5)';
is_deeply [map { $_->{after} } @sr[0, 1]], [map { $_->{n} } @sr[0, 1]], 'and no change under them while they waited';
cmp_ok $took, '>=', 0.6, sprintf('they ran one after the other (%.2f s)', $took);
my $ns = eval { json_decode($sr[2]{body}) } || {};
is_deeply [$ns->{status}, $ns->{id}, $ns->{session}], [1, '', undef],
    'a request without a session meanwhile sees none (no $_SESSION, no id)';
cmp_ok $sr[2]{t} // 99, '<', 0.25, 'and is served while the second waits for the lock (the thread is not blocked)';

done_testing();
