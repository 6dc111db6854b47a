# Reload on change (issue 12), on a private server whose worker script
# includes a library: with TrueAsyncWatch Off an edit shows after
# `apachectl -k graceful`; with TrueAsyncWatch On both PHP threads recycle
# by themselves (inotify on what the script included) and new requests see
# the new code without a restart: same child, nothing fails meanwhile.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use TATest qw(top_dir);
use TAServer;

plan tests => 8;

my $top = top_dir();
my $work = tempdir('ta-watch-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $work;
sub install {
    my ($name, $version) = @_;
    open my $in, '<', "$top/t/php/$name" or die $!;
    local $/; my $src = <$in>;
    $src =~ s/'v1'/'$version'/ if $version;
    open my $out, '>', "$work/$name.tmp" or die $!;
    print $out $src; close $out;
    chmod 0644, "$work/$name.tmp";
    rename "$work/$name.tmp", "$work/$name" or die $!;     # as editors and deploys do
}
sub server {
    my $watch = shift;
    install('watch.php');
    install('watch_lib.php', 'v1');
    my $srv = TAServer->new(body => <<"CONF");
TrueAsyncWorker $work/watch.php
TrueAsyncThreads 2
TrueAsyncWatch $watch
<Location />
    SetHandler trueasync-worker
</Location>
CONF
    $srv->start or die "server did not start:\n" . $srv->log_text;
    return $srv;
}
sub versions {
    my $srv = shift;
    my %v;
    for (1 .. 8) { my $r = $srv->get('/'); $v{$r->{status} == 200 ? $r->{body} =~ s/\s+$//r : "HTTP $r->{status}"}++ }
    return join ',', sort keys %v;
}

my $srv = server('Off');
my ($v1) = versions($srv) =~ /^(v1 pid=\d+)$/;
ok $v1, 'TrueAsyncWatch Off: v1 served';
install('watch_lib.php', 'v2');
sleep 1.5;
is versions($srv), $v1, '... an edit alone changes nothing';
$srv->ctl('graceful');
my $seen = '';
for (1 .. 50) { $seen = versions($srv); last if $seen =~ /^v2 pid=\d+$/; sleep 0.2 }
like $seen, qr/^v2 pid=\d+$/, '... after apachectl -k graceful new requests see the new code';
undef $srv;

$srv = server('On');
($v1) = versions($srv) =~ /^(v1 pid=(\d+))$/;
my $pid = $2;
ok $v1, 'TrueAsyncWatch On: v1 served';
my $t0 = time;
install('watch_lib.php', 'v2');
my (%all, $bad);
for (1 .. 100) {
    for (1 .. 4) { my $r = $srv->get('/'); $bad++ if $r->{status} != 200; $all{$r->{body} =~ s/\s+$//r}++ if $r->{status} == 200 }
    $seen = versions($srv);
    last if $seen eq "v2 pid=$pid";
    sleep 0.1;
}
is $seen, "v2 pid=$pid", 'an edit of an included file: both threads serve the new code, same child, no restart';
cmp_ok time - $t0, '<', 5, sprintf('... within 5 s (%.1f s)', time - $t0);
ok !$bad, '... and no request failed meanwhile';
like $srv->log_text, qr/TA00818: PHP thread \d of \S+watch\.php recycles as a file its worker script included changed/,
    '... the recycle is logged with its cause';
