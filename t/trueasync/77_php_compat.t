# Issue 19: what PHP does at a request's edges, compared with Debian's
# php-cgi running the same script for the same request with the same
# settings: a handler object's session (it hung the thread), output made
# while the request ends, status lines, output callbacks, settings and
# handlers that must not outlive their request (two requests in a row on
# one thread), zlib.output_compression, display_errors, session.auto_start.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request top_dir json_decode log_mark log_since child_crashes);

my $cgi = '/usr/bin/php-cgi8.2';
-x $cgi or die "$cgi missing (Debian package php8.2-cgi; make setup installs it)";
my $cases = top_dir() . '/t/php/inc/compat_cases';

# The request as php-cgi sees it; @$ini: -d settings on top of the worker's.
sub cgi_run {
    my ($case, %a) = @_;
    my $method = $a{method} || 'GET';
    my $body = $a{body} // '';
    my %h = @{ $a{headers} || [] };
    local %ENV = (PATH => $ENV{PATH}, GATEWAY_INTERFACE => 'CGI/1.1', REDIRECT_STATUS => '200',
                  REQUEST_METHOD => $method, SCRIPT_FILENAME => "$cases/$case.php",
                  SCRIPT_NAME => "/case/$case", REQUEST_URI => "/case/$case", QUERY_STRING => '',
                  SERVER_PROTOCOL => 'HTTP/1.1', (length $body ? (CONTENT_LENGTH => length $body) : ()));
    for my $n (keys %h) {
        my $k = uc $n; $k =~ tr/-/_/;
        if ($k eq 'CONTENT_TYPE') { $ENV{CONTENT_TYPE} = $h{$n} } else { $ENV{"HTTP_$k"} = $h{$n} }
    }
    my $in = "/tmp/ta-cgi77-in.$$";
    open my $fh, '>', $in or die; binmode $fh; print $fh $body; close $fh;
    my @d = ('-d', 'cgi.force_redirect=0', '-d', 'display_errors=0', '-d', 'log_errors=0', '-d', 'html_errors=0',
             map { ('-d', $_) } @{ $a{ini} || [] });
    my $out = `$cgi -n @{[ join ' ', map { "'$_'" } @d ]} < $in`;
    unlink $in;
    my ($head, $b) = split /\r\n\r\n/, $out, 2;
    my %r = (status => 200, reason => '', headers => [], body => $b // '');
    for (split /\r\n/, $head) {
        my ($n, $v) = /^([^:]+):\s*(.*)$/ or next;
        if (lc $n eq 'status') { ($r{status}, $r{reason}) = $v =~ /^(\d+) ?(.*)$/; next }
        push @{ $r{headers} }, [$n, $v];
    }
    return \%r;
}

sub ours {
    my ($vhost, $case, %a) = @_;
    return raw_request($vhost, method => $a{method} || 'GET', path => "/case/$case",
                       headers => $a{headers} || [], (defined $a{body} ? (body => $a{body}) : ()), timeout => 10);
}

sub hv { my ($r, $n) = @_; [ sort map { $_->[1] } grep { lc $_->[0] eq lc $n } @{ $r->{headers} } ] }

# both status and body as under php-cgi; returns (ours, php-cgi's)
sub same {
    my ($vhost, $case, $what, %a) = @_;
    my $want = cgi_run($case, %a);
    my $got = ours($vhost, $case, %a);
    is $got->{status}, $want->{status}, "$case ($what): status $want->{status} as under php-cgi"
        or diag "ours: $got->{status} " . ($got->{error} // '') . " body: " . substr($got->{body}, 0, 300);
    s{PHP\\?/8\.\d+\.\d+}{PHP/8.x}g for $got->{body}, $want->{body};
    is $got->{body}, $want->{body}, "$case ($what): the same body as under php-cgi";
    return ($got, $want);
}

# ---- a session handler object (register_shutdown true): the request ends,
# and what write() and close() print is part of the response
{
    my $mark = log_mark();
    my ($g) = same('trueasync_compat', 'session_object', 'the manual\'s handler object');
    ok $g->{complete}, 'session_object: the response is complete (the thread did not hang)';
    is ours('trueasync_compat', 'plain')->{status}, 200, 'session_object: the thread serves the next request';
    unlike log_since($mark), qr/PHP output outside a request/, 'session_object: nothing of it went to the log';
}

# ---- a destructor of an object only the request held prints into its response
{
    my $mark = log_mark();
    same('trueasync_compat', 'destructor', 'an object in $_GET destroyed at the end');
    unlike log_since($mark), qr/PHP output outside a request/, 'destructor: nothing of it went to the log';
}

# ---- status lines
{
    my ($g, $w) = same('trueasync_compat', 'status_399', 'header("HTTP/1.1 399 ...") then Location');
    is_deeply hv($g, 'Location'), hv($w, 'Location'), 'status_399: Location as php-cgi sends it';
    is $g->{reason}, $w->{reason}, "status_399: the reason phrase ($w->{reason})";
    ($g, $w) = same('trueasync_compat', 'status_reason', 'a custom reason phrase');
    # httpd 2.4 keeps a reason phrase of its own for the codes it knows
    like $g->{reason}, qr/^(?:\Q$w->{reason}\E|Not Found)$/, "status_reason: the reason phrase ($g->{reason})";
}

# ---- an output callback that replaces the output
same('trueasync_compat', 'ob_steal', 'ob_start() callback replaces everything');

# ---- settings and handlers of one request are undone for the next (one thread)
{
    my $before = ours('trueasync_compat', 'leak_peek');
    my $b = eval { json_decode($before->{body}) } // {};
    my $cgi_peek = json_decode(cgi_run('leak_peek')->{body});
    is_deeply [@$b{qw(start status error)}], [@$cgi_peek{qw(start status error)}],
        'leak_peek: a session starts as under php-cgi';
    my $set = ours('trueasync_compat', 'leak_set');
    is $set->{body}, cgi_run('leak_set')->{body}, 'leak_set: the request that changes them, as under php-cgi';
    my $after = ours('trueasync_compat', 'leak_peek');
    is_deeply eval { json_decode($after->{body}) } // $after->{body}, $b,
        'leak_peek: the next request on the thread sees the settings and handlers the one before leak_set saw';
    my $again = ours('trueasync_compat', 'leak_peek');
    is $again->{body}, $before->{body}, 'leak_peek: and so does the one after';
}

# ---- zlib.output_compression (a php.ini setting) with ob_gzhandler and without
{
    my $mark = log_mark();
    my @z = (ini => ['zlib.output_compression=1']);
    for my $case (qw(gzip plain)) {
        for my $ae ('gzip', 'deflate', undef) {
            my $what = 'zlib.output_compression=1, Accept-Encoding: ' . ($ae // 'none');
            my ($g, $w) = same('trueasync_compat_zlib', $case, $what, @z, headers => [defined $ae ? ('Accept-Encoding' => $ae) : ()]);
            is_deeply [hv($g, 'Content-Encoding'), hv($g, 'Vary')], [hv($w, 'Content-Encoding'), hv($w, 'Vary')],
                "$case ($what): Content-Encoding and Vary as php-cgi sends them";
        }
    }
    same('trueasync_compat_zlib', 'server', 'zlib.output_compression=1: $_SERVER is there', @z);
    is scalar(child_crashes($mark)), 0, 'zlib.output_compression: no child crashed';
}

# ---- display_errors=1: a fatal error or an uncaught exception ends the
# response as PHP ends it (the output so far, the message, PHP's status)
{
    my @de = (ini => ['display_errors=1']);
    my ($g) = same('trueasync_compat_display', 'fatal', 'E_USER_ERROR after output', @de);
    unlike $g->{body}, qr/<title>/, 'fatal: not Apache\'s error page';
    same('trueasync_compat_display', 'ob_steal_fatal', 'a fatal error with an output callback', @de);
    my $w = cgi_run('shutdown_throw', @de);
    $g = ours('trueasync_compat_display', 'shutdown_throw');
    is $g->{status}, $w->{status}, "shutdown_throw: status $w->{status} as under php-cgi";
    # (the stack trace has the worker's frames)
    s/^#\d+ .*\n//mg for $g->{body}, $w->{body};
    is $g->{body}, $w->{body}, 'shutdown_throw: the output and the displayed exception as under php-cgi (stack trace aside)';
    my $big = 'big=' . ('x' x 70000);
    ($g, $w) = same('trueasync_compat_display', 'post_warn', 'POST over post_max_size', @de, ini => ['display_errors=1', 'post_max_size=64K'],
                    method => 'POST', body => $big, headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
    is_deeply hv($g, 'X-Powered-By'), hv($w, 'X-Powered-By'), 'post_warn: X-Powered-By as php-cgi sends it';
    same('trueasync_compat_display', 'post_warn', 'more fields than max_input_vars', ini => ['display_errors=1', 'max_input_vars=40'],
         method => 'POST', body => join('&', map { "f$_=$_" } 1 .. 60), headers => ['Content-Type' => 'application/x-www-form-urlencoded']);
}

# ---- session.auto_start=1
{
    my ($g, $w) = same('trueasync_compat_autostart', 'auto_start', 'session.auto_start=1',
                       ini => ['session.auto_start=1', 'session.save_path=/tmp']);
    is_deeply [map { scalar @{ hv($_, 'Set-Cookie') } } $g, $w], [1, 1], 'auto_start: a session cookie, as php-cgi sets it';
    is_deeply hv($g, 'Cache-Control'), hv($w, 'Cache-Control'), 'auto_start: the cache limiter\'s header';
}

done_testing();
