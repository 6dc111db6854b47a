package TAServer;
# A private Apache with the module, for tests that restart or stop a server
# (the suite's own server must keep running). new(%o) writes its config in
# a temporary directory: o{body} is added at the end, o{modules} lists extra
# modules to load, o{mpm} replaces the MPM sizing, o{trueasync} => 0 leaves
# the module out (a front proxy). start/graceful/graceful_stop/stop drive it with -k.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);
use Apache::Test ();
use TATest ();

my $moddir = '/usr/lib/apache2/modules';

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', ReuseAddr => 1) or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub new {
    my ($class, %o) = @_;
    my $top = Apache::Test::vars('top_dir');
    my $dir = tempdir('ta-server-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TA_KEEP});
    chmod 0755, $dir;
    my $self = bless { dir => $dir, port => free_port(), httpd => Apache::Test::vars('httpd') || '/usr/sbin/apache2' }, $class;
    my $user = $> == 0 ? "User nobody\nGroup nogroup\n" : '';
    # o{mpm}: the MPM's sizing (default: one child of 32 threads)
    my $mpm = $o{mpm} // "StartServers 1\nServerLimit 1\nThreadsPerChild 32\nThreadLimit 32\n"
        . "MaxRequestWorkers 32\nMinSpareThreads 1\nMaxSpareThreads 32\n";
    my $mods = join '', map { "LoadModule ${_}_module $moddir/mod_$_.so\n" } ('mpm_event', 'authz_core', @{ $o{modules} || [] });
    $mods .= "LoadModule trueasync_module " . TATest::module_so() . "\n" if $o{trueasync} // 1;
    open my $fh, '>', "$dir/httpd.conf" or die "$dir/httpd.conf: $!";
    print $fh <<"CONF";
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$self->{port}
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
LogLevel info
DefaultRuntimeDir "$dir"
Mutex default:$dir
$user$mods
${mpm}KeepAlive Off
$o{body}
CONF
    close $fh;
    return $self;
}

sub port { $_[0]{port} }

# One HTTP/1.0 request; reads until the server closes. Returns
# { status, body, complete, error, head }; complete: the body is as long as
# Content-Length says (or the server closed after a full head). $headers:
# more request headers, [name => value, ...] (a Host header replaces the
# default one).
sub get {
    my ($self, $path, $timeout, $headers) = @_;
    my %r = (status => 0, body => '', complete => 0);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Timeout => 5)
        or return { %r, error => "connect: $!" };
    my %h = (Host => '127.0.0.1', @{ $headers || [] });
    syswrite $s, "GET $path HTTP/1.0\r\n" . join('', map { "$_: $h{$_}\r\n" } sort keys %h) . "\r\n";
    my $data = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout || 30);
        while (1) { my $n = sysread $s, my $buf, 65536; last unless $n; $data .= $buf }
        alarm 0;
        1;
    };
    $r{error} = $@ unless $ok;
    if ($data =~ /\AHTTP\/1\.\d (\d{3})[^\r]*\r\n(.*?)\r\n\r\n(.*)\z/s) {
        my ($status, $head, $body) = ($1, $2, $3);
        @r{qw(status body head)} = ($status, $body, $head);
        my ($cl) = $head =~ /^Content-Length:\s*(\d+)/mi;
        $r{complete} = defined $cl ? length($body) == $cl : 1;
    }
    return \%r;
}
sub dir { $_[0]{dir} }
sub log_text { my $f = "$_[0]{dir}/error_log"; open my $fh, '<', $f or return ''; local $/; <$fh> }

sub ctl {
    my ($self, $what) = @_;
    return system($self->{httpd}, '-d', $self->{dir}, '-f', "$self->{dir}/httpd.conf", '-k', $what) == 0;
}

sub parent_pid {
    my $self = shift;
    open my $fh, '<', "$self->{dir}/httpd.pid" or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub alive { my $pid = $_[0]->parent_pid; return $pid && kill(0, $pid) }

sub start {
    my $self = shift;
    $self->ctl('start') or return 0;
    my $deadline = time + 20;
    while (time < $deadline) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Timeout => 1);
        return 1 if $s;
        sleep 0.1;
    }
    return 0;
}

# Waits until the parent is gone (after a stop); true if it is.
sub wait_gone {
    my ($self, $secs) = @_;
    my $pid = $self->parent_pid or return 1;
    my $deadline = time + $secs;
    while (time < $deadline) { return 1 unless kill 0, $pid; sleep 0.1 }
    return 0;
}

sub DESTROY {
    my $self = shift;
    local $?;
    return unless $self->alive;
    $self->ctl('stop');
    $self->wait_gone(15);
    if (my $pid = $self->parent_pid) { kill 'KILL', $pid if kill 0, $pid }
}

1;
