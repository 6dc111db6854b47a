# Issue 18: a full-stack Symfony 5.4 application from Debian's packages
# (t/php/symfony_full/: FrameworkBundle with MicroKernelTrait, TwigBundle,
# a TokenStorage holding the current user, Doctrine DBAL, native sessions),
# booted ONCE per PHP thread and served through a frankenphp_handle_request()
# loop as runtime/frankenphp-symfony runs it (t/php/symfony_full.php).
# 30 clients at once, each with its own identity and session: each sees
# only its own user, session, request and database row, rendered through
# Twig; a request with no session sees no user (the services were reset).
# A private server: the kernel's cache goes to a directory made here for
# Apache's User, and the worker learns MariaDB's port at boot.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(parallel top_dir);
use TAServer;
use TAMariaDB;

plan tests => 12;

my $dbport = TAMariaDB::start();
END { TAMariaDB::stop() }
TAMariaDB::sql('CREATE DATABASE ta_sf');
TAMariaDB::sql('CREATE TABLE ta_sf.visits (id INT AUTO_INCREMENT PRIMARY KEY, '
               . 'user VARCHAR(40) NOT NULL, tag VARCHAR(40) NOT NULL) ENGINE=InnoDB');

my $top = top_dir();
my $srv = TAServer->new(body => <<"CONF");
TrueAsyncWorker $top/t/php/symfony_full.php
TrueAsyncThreads 2
TrueAsyncBufferSize 32
<Location />
    SetHandler trueasync-worker
</Location>
CONF
my $cache = $srv->dir . '/cache';
mkdir $cache or die "$cache: $!";
chown scalar(getpwnam('nobody')), scalar(getgrnam('nogroup')), $cache if $> == 0;
$ENV{TA_SF_CACHE} = $cache;
$ENV{TA_MARIADB_PORT} = $dbport;
$srv->start or die "server did not start:\n" . $srv->log_text;

sub page {
    my ($path, $cookie) = @_;
    my $r = $srv->get($path, 30, [$cookie ? (Cookie => $cookie) : ()]);
    my %p = (status => $r->{status}, error => $r->{error});
    ($p{cookie}) = ($r->{head} // '') =~ /^Set-Cookie:\s*(PHPSESSID=[^;]+)/mi;
    ($p{boot}) = ($r->{head} // '') =~ /^X-Worker-Boot:\s*(\S+)/mi;
    @p{qw(user session n tag row)} = $r->{body} =~
        m{user=(.*?)</p>\s*<p>session=(.*?) n=(\d*)</p>\s*<p>tag=(.*?)</p>\s*<p>row=(.*?)</p>}s;
    return \%p;
}

my $anon = page('/me?tag=warm&ms=0', undef);
is $anon->{status}, 200, 'the application answers (kernel booted at worker start)'
    or diag explain $anon, $srv->log_text;

my $N = 30;
my @res = parallel([ map { my $i = $_; sub {
    my $login = page("/login?user=u$i");
    my $c = $login->{cookie} or return { error => 'no session cookie', login => $login };
    my $a = page("/me?tag=a$i&ms=100", $c);
    my $b = page("/me?tag=b$i&ms=50", $c);
    return { cookie => $c, a => $a, b => $b, boots => [map { $_->{boot} // '' } $login, $a, $b] };
} } 1 .. $N ], 60);

is scalar(grep { ($_->{a}{status} // 0) == 200 && ($_->{b}{status} // 0) == 200 } @res), $N,
    "$N clients: every request answered 200" or diag explain [ grep { !$_->{a} } @res ];
my %cookies = map { ($_->{cookie} // '') => 1 } @res;
is scalar(grep { $_ } keys %cookies), $N, "$N clients: $N distinct sessions";
my @own = grep { my $i = $_; my $x = $res[$i - 1];
    (join ',', map { $x->{$_}{user} // '' } qw(a b)) eq "u$i,u$i" } 1 .. $N;
is scalar(@own), $N, "$N clients: app.user (the TokenStorage) is the client's own, before and after the wait"
    or diag join ' ', map { my $i = $_; "u$i:" . join('/', map { $res[$i - 1]{$_}{user} // '?' } qw(a b)) } 1 .. $N;
is scalar(grep { my $x = $res[$_ - 1];
    ($x->{a}{session} // '') eq "u$_" && ($x->{b}{session} // '') eq "u$_"
        && ($x->{a}{n} // '') eq '1' && ($x->{b}{n} // '') eq '2' } 1 .. $N), $N,
    "$N clients: app.session is the client's own, its counter going 1, 2";
is scalar(grep { my $x = $res[$_ - 1]; ($x->{a}{tag} // '') eq "a$_" && ($x->{b}{tag} // '') eq "b$_" } 1 .. $N), $N,
    "$N clients: app.request is the request's own";
is scalar(grep { my $x = $res[$_ - 1]; ($x->{a}{row} // '') eq "u$_/a$_" && ($x->{b}{row} // '') eq "u$_/b$_" } 1 .. $N), $N,
    "$N clients: the row each wrote in its DBAL transaction is read back as its own";
my %boots = map { $_ => 1 } grep { $_ } map { @{ $_->{boots} || [] } } @res;
ok keys(%boots) >= 1 && keys(%boots) <= 2,
    'the kernel was booted once per PHP thread (' . scalar(keys %boots) . ' boots for ' . (3 * $N) . ' requests)';

my @anon = map { page("/me?tag=anon$_&ms=0") } 1 .. 4;
is scalar(grep { ($_->{user} // '') eq 'anonymous' && ($_->{session} // '') eq 'none' } @anon), 4,
    'requests without a session see no user: the TokenStorage was reset after each request'
    or diag explain \@anon;

my %rows;
for (TAMariaDB::sql('SELECT user, tag FROM ta_sf.visits')) { my ($u, $t) = split /\t/; push @{ $rows{$u} }, $t }
is scalar(grep { join(',', sort @{ $rows{"u$_"} || [] }) eq "a$_,b$_" } 1 .. $N), $N,
    'the database holds each client\'s two rows, under its own name';
is scalar(@{ $rows{anonymous} || [] }), 5, '... and the anonymous ones';
unlike $srv->log_text, qr/PHP (Fatal|Warning)|Uncaught/, 'no PHP error or warning in the log';
