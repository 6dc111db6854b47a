package TATest;
# Helpers shared by the mod_trueasync Apache::Test files:
#   - where each virtual host listens (vhost names are those in extra.conf.in)
#   - a small raw HTTP/1.x client that records when each byte/chunk arrived
#   - fork-based parallel runner with a hard deadline
#   - error_log readers (mark the current end, read / wait for new lines)
use strict;
use warnings;

use Apache::Test ();
use Apache::TestRequest ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(time sleep);
use JSON::PP ();
use POSIX ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use Exporter ();
our @ISA = ('Exporter');

our @EXPORT_OK = qw(hostport base_url ua raw_request parallel spans
                    log_mark log_since wait_log error_log_path
                    json_decode json_encode php_line top_dir
                    child_crashes module_so run_captured);

$SIG{PIPE} = 'IGNORE';

# Every test file starts by checking that httpd's child is not crash-looping
# (then nothing can pass and every request would wait for its timeout).
sub import {
    my $class = shift;
    check_crash_loop() unless $ENV{TATEST_NO_CRASH_CHECK};
    $class->export_to_level(1, $class, @_);
}

sub top_dir { Apache::Test::vars('top_dir') }

# The module the test server loads: the ASan build when the suite runs
# with -defines TRUEASYNC_ASAN (scripts/apache-test.sh --asan).
sub module_so {
    my $asan = (Apache::Test::vars('defines') // '') =~ /\bTRUEASYNC_ASAN\b/;
    return top_dir() . ($asan ? '/build/asan/mod_trueasync.so' : '/build/mod_trueasync.so');
}

# (host, port) of a vhost from extra.conf.in, or of the main server for undef.
sub hostport {
    my $vhost = shift;
    local $Apache::TestRequest::Module = $vhost || 'default';
    my $hp = Apache::TestRequest::hostport(Apache::Test::config());
    my ($host, $port) = split /:/, $hp;
    die "no hostport for vhost '" . ($vhost // 'default') . "'" unless $port;
    return ('127.0.0.1', $port);
}

sub base_url {
    my ($h, $p) = hostport(shift);
    return "http://$h:$p";
}

sub ua {
    require LWP::UserAgent;
    my %args = @_;
    return LWP::UserAgent->new(timeout => 20, max_redirect => 0,
                               keep_alive => 0, %args);
}

sub json_decode { JSON::PP->new->utf8->allow_nonref->decode(shift) }
sub json_encode { JSON::PP->new->utf8->canonical->allow_nonref->encode(shift) }

# Line number of the first line of a PHP file (under t/php) matching $re.
sub php_line {
    my ($file, $re) = @_;
    my $path = top_dir() . "/t/php/$file";
    open my $fh, '<', $path or die "open $path: $!";
    while (my $l = <$fh>) { return $. if $l =~ $re }
    die "no line matching $re in $path";
}

#--------------------------------------------------------------------------
# raw HTTP client
#--------------------------------------------------------------------------
package TATest::Conn;
use Time::HiRes qw(time sleep);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);

sub new {
    my ($class, $vhost, %o) = @_;
    my ($host, $port) = TATest::hostport($vhost);
    my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                     Proto => 'tcp', Timeout => 10)
        or die "connect $host:$port: $!";
    $sock->autoflush(1);
    $sock->blocking(0);
    return bless { sock => $sock, buf => '', eof => 0, host => $host,
                   port => $port, hostheader => "$host:$port", %o }, $class;
}

sub sock { $_[0]{sock} }
sub close { my $s = shift; $s->{sock}->close if $s->{sock}; delete $s->{sock} }
sub peer_closed { $_[0]{eof} }

# Write all of $data; while writing also read whatever the server answers
# (a server may answer early, e.g. 413, and stop reading). Returns the
# number of bytes written; stops quietly on EPIPE/ECONNRESET.
sub write_all {
    my ($s, $data, $deadline) = @_;
    $deadline ||= time + 30;
    my $off = 0;
    my $len = length $data;
    my $sel = IO::Select->new($s->{sock});
    while ($off < $len) {
        my $left = $deadline - time;
        die "write timeout\n" if $left <= 0;
        my ($r, $w) = IO::Select->select($sel, $sel, undef, $left);
        if ($r && @$r) { return $off unless $s->_read_some }
        next unless $w && @$w;
        my $n = syswrite($s->{sock}, $data, 65536, $off);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $s->{write_error} = "$!";
            return $off;
        }
        $off += $n;
    }
    return $off;
}

sub _read_some {
    my $s = shift;
    my $n = sysread($s->{sock}, my $chunk, 65536);
    if (!defined $n) {
        return 1 if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        $s->{read_error} = "$!";
        $s->{eof} = 1;
        return 0;
    }
    if ($n == 0) { $s->{eof} = 1; return 0 }
    $s->{buf} .= $chunk;
    $s->{last_read} = time;
    push @{ $s->{reads} }, [time, $n];
    return 1;
}

# Wait until buf has at least $want bytes (or contains $pattern); dies on
# timeout, returns false on EOF before that.
sub _fill {
    my ($s, $deadline, $cond) = @_;
    my $sel = IO::Select->new($s->{sock});
    until ($cond->()) {
        return 0 if $s->{eof};
        my $left = $deadline - time;
        die "read timeout\n" if $left <= 0;
        my @r = $sel->can_read($left > 2 ? 2 : $left);
        unless (@r) {
            TATest::check_crash_loop() unless $ENV{TATEST_NO_CRASH_CHECK};
            next;
        }
        $s->_read_some;
    }
    return 1;
}

# Sends one request. %a: method, path, headers => [name, value, ...],
# body, proto ('1.1' default), chunked_body => [pieces] (sends the body
# with Transfer-Encoding: chunked), no_host => 1, deadline.
sub send_request {
    my ($s, %a) = @_;
    my $method = $a{method} || 'GET';
    my $proto  = $a{proto}  || '1.1';
    my @h = @{ $a{headers} || [] };
    my %seen;
    for (my $i = 0; $i < @h; $i += 2) { $seen{ lc $h[$i] } = 1 }
    my $req = "$method $a{path} HTTP/$proto\r\n";
    $req .= "Host: $s->{hostheader}\r\n" unless $seen{host} || $a{no_host};
    my $body = '';
    if ($a{chunked_body}) {
        $req .= "Transfer-Encoding: chunked\r\n";
        $body = join '', map { sprintf("%x\r\n", length) . "$_\r\n" }
                          @{ $a{chunked_body} };
        $body .= "0\r\n\r\n";
    }
    elsif (defined $a{body}) {
        $req .= "Content-Length: " . length($a{body}) . "\r\n"
            unless $seen{'content-length'};
        $body = $a{body};
    }
    for (my $i = 0; $i < @h; $i += 2) { $req .= "$h[$i]: $h[$i+1]\r\n" }
    $req .= "\r\n";
    $s->{sent_at} = time;
    $s->{reads} = [];
    return $s->write_all($req . $body, $a{deadline});
}

# Reads one response. Returns a hashref:
#   status, reason, proto, headers => [[name, value], ...], body,
#   chunked => bool, chunks => [{data, size, t}], t_headers, t_end,
#   t_first_body, complete => bool (body fully framed), error
sub read_response {
    my ($s, %a) = @_;
    my $deadline = time + ($a{timeout} || 20);
    my %r = (headers => [], body => '', chunks => [], complete => 0);
    my $ok = eval {
        $s->_fill($deadline, sub { $s->{buf} =~ /\r\n\r\n/ })
            or die "connection closed before response headers\n";
        $r{t_headers} = $s->{last_read};
        $s->{buf} =~ s/\A(.*?)\r\n\r\n//s;
        my @lines = split /\r\n/, $1;
        my $sl = shift @lines;
        ($r{proto}, $r{status}, $r{reason}) =
            $sl =~ m{^HTTP/(\d\.\d) (\d{3}) ?(.*)$} or die "bad status line '$sl'\n";
        for (@lines) {
            my ($n, $v) = /^([^:]+):\s*(.*)$/ or die "bad header '$_'\n";
            push @{ $r{headers} }, [$n, $v];
        }
        my $te = lc(TATest::Conn::hdr(\%r, 'Transfer-Encoding') // '');
        my $cl = TATest::Conn::hdr(\%r, 'Content-Length');
        if ($a{head} || $r{status} == 204 || $r{status} == 304
            || $r{status} < 200) {
            $r{complete} = 1;
        }
        elsif ($te =~ /chunked/) {
            $r{chunked} = 1;
            while (1) {
                $s->_fill($deadline, sub { $s->{buf} =~ /\r\n/ })
                    or die "EOF in chunk size\n";
                $s->{buf} =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n// or die "bad chunk size line\n";
                my $size = hex $1;
                if ($size == 0) {
                    $s->_fill($deadline, sub { $s->{buf} =~ /\A(?:[^\r\n]+\r\n)*\r\n/ })
                        or die "EOF in trailer\n";
                    $s->{buf} =~ s/\A(?:[^\r\n]+\r\n)*\r\n//;
                    last;
                }
                $s->_fill($deadline, sub { length($s->{buf}) >= $size + 2 })
                    or die "EOF in chunk data\n";
                my $data = substr($s->{buf}, 0, $size, '');
                substr($s->{buf}, 0, 2, '') eq "\r\n" or die "bad chunk end\n";
                $r{t_first_body} //= $s->{last_read};
                push @{ $r{chunks} }, { data => $data, size => $size,
                                        t => $s->{last_read} };
                $r{body} .= $data;
            }
            $r{complete} = 1;
        }
        elsif (defined $cl) {
            $s->_fill($deadline, sub { length($s->{buf}) >= $cl })
                or die "EOF after " . length($s->{buf}) . " of $cl body bytes\n";
            $r{body} = substr($s->{buf}, 0, $cl, '');
            $r{t_first_body} = $r{t_headers};
            $r{complete} = 1;
        }
        else {
            $s->_fill($deadline, sub { 0 });
            $r{body} = $s->{buf};
            $s->{buf} = '';
            $r{complete} = 1;
        }
        $r{t_end} = $s->{last_read} // time;
        1;
    };
    $r{error} = $@ unless $ok;
    chomp $r{error} if $r{error};
    return \%r;
}

# Value(s) of a response header: in list context all values, in scalar
# context the values joined with ", " (undef when absent).
sub hdr {
    my ($r, $name) = @_;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $r->{headers} };
    return @v if wantarray;
    return @v ? join(', ', @v) : undef;
}

package TATest;

# One request on a fresh connection; returns the response hashref (plus
# conn => the connection when keep => 1).
sub raw_request {
    my ($vhost, %a) = @_;
    my $c = TATest::Conn->new($vhost);
    my $deadline = time + ($a{timeout} || 30);
    $c->send_request(%a, deadline => $deadline);
    my $r = $c->read_response(timeout => $a{timeout} || 30, head => ($a{method} // '') eq 'HEAD');
    $r->{write_error} = $c->{write_error};
    if ($a{keep}) { $r->{conn} = $c } else { $c->close }
    return $r;
}

#--------------------------------------------------------------------------
# parallel(\@jobs, timeout): runs each coderef in a forked child, returns
# the list of their (JSON-serialisable) results in job order. A child that
# dies or times out yields { error => ... }.
#--------------------------------------------------------------------------
sub parallel {
    my ($jobs, $timeout) = @_;
    $timeout ||= 30;
    my (@kids, @results);
    for my $i (0 .. $#$jobs) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            close $rd;
            my $res = eval {
                local $SIG{ALRM} = sub { die "job timeout\n" };
                alarm $timeout;
                my $v = $jobs->[$i]->();
                alarm 0;
                $v;
            };
            $res = { error => ($@ || 'undef result') } unless defined $res;
            my $out = json_encode($res);
            syswrite $wr, $out;
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    my $deadline = time + $timeout + 5;
    for my $k (@kids) {
        my ($pid, $rd) = @$k;
        my $data = '';
        my $sel = IO::Select->new($rd);
        while (1) {
            my $left = $deadline - time;
            last if $left <= 0;
            last unless $sel->can_read($left);
            my $n = sysread $rd, my $buf, 65536;
            last unless $n;
            $data .= $buf;
        }
        close $rd;
        kill 'KILL', $pid if time >= $deadline;
        waitpid $pid, 0;
        my $res = eval { json_decode($data) } || { error => "no result from child: $@" };
        push @results, $res;
    }
    return @results;
}

#--------------------------------------------------------------------------
# error_log
#--------------------------------------------------------------------------
sub error_log_path { Apache::Test::vars('t_logs') . '/error_log' }

# Runs a command with stdout and stderr captured together, at most
# $timeout seconds (default 30): (exit status, output); -1 on timeout.
sub run_captured {
    my ($cmd, $timeout) = @_;
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $rd;
        open STDOUT, '>&', $wr; open STDERR, '>&', $wr;
        { exec @$cmd; }
        POSIX::_exit(127);
    }
    close $wr;
    my $out = '';
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout || 30);
        local $/; $out = <$rd> // '';
        waitpid $pid, 0;
        alarm 0;
    };
    if ($@) { kill 'KILL', $pid; waitpid $pid, 0; return (-1, "TIMEOUT\n$out") }
    return ($? >> 8, $out);
}

sub log_mark { -s error_log_path() || 0 }

# error_log lines reporting a child that died from a signal
# (AH00052 "child pid N exit signal Segmentation fault (11)", and friends).
sub child_crashes {
    my $mark = shift || 0;
    return grep { /exit signal|seg fault or similar nasty error/ } split /\n/, log_since($mark);
}

# Bail out of the whole run when children died 3+ times within 10 seconds
# of the newest crash and that crash is recent: the server is unusable.
sub check_crash_loop {
    my @t;
    for (child_crashes(0)) {
        my ($h, $m, $s) = /^\[\w+ \w+ +\d+ (\d\d):(\d\d):(\d\d(?:\.\d+)?) \d{4}\]/ or next;
        push @t, $h * 3600 + $m * 60 + $s;
    }
    return unless @t >= 3;
    my @lt = localtime;
    my $now = $lt[2] * 3600 + $lt[1] * 60 + $lt[0];
    my $recent = grep { $t[-1] - $_ <= 10 } @t;
    if ($recent >= 3 && $now - $t[-1] <= 15 && $now >= $t[-1]) {
        require Test::More;
        Test::More::BAIL_OUT("httpd children are crash-looping ("
            . scalar(@t) . " crashes, see t/logs/error_log); was build/mod_trueasync.so"
            . " replaced or is the module crashing at start-up?");
    }
}


sub log_since {
    my $mark = shift || 0;
    open my $fh, '<', error_log_path() or return '';
    seek $fh, $mark, 0;
    local $/;
    my $txt = <$fh>;
    return $txt // '';
}

# Wait (up to $timeout s) until the log text after $mark matches $re.
sub wait_log {
    my ($mark, $re, $timeout) = @_;
    my $end = time + ($timeout || 5);
    while (1) {
        my $t = log_since($mark);
        return $t if $t =~ $re;
        return undef if time > $end;
        sleep 0.1;
    }
}


# The worker's own times of a batch of answers ({start, end} each): the
# first and last start, the first and last end. A missing time counts as
# the worst case for the checks made with them.
sub spans {
    my @r = @_;
    my ($min_start) = sort { $a <=> $b } map { $_->{start} // 0 } @r;
    my ($max_start) = sort { $b <=> $a } map { $_->{start} // 1e20 } @r;
    my ($min_end) = sort { $a <=> $b } map { $_->{end} // 0 } @r;
    my ($max_end) = sort { $b <=> $a } map { $_->{end} // 1e20 } @r;
    return ($min_start, $max_start, $min_end, $max_end);
}

1;
