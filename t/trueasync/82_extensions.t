# 82. The module's PHP carries the extensions apps need (issue 21), each a
#     shared extension loaded by its own ini in the PHP's conf.d, and each
#     works inside requests on 2 PHP threads at once: an intl format, a gd
#     PNG, a bcmath sum, a zip round trip, a sodium box, igbinary and msgpack
#     round trips and an imagick resize give what Debian's php8.2 CLI gives
#     for the same code (t/php/inc/ext_cases.php); APCu's cache is one for
#     both threads of the child.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request parallel top_dir json_decode);

# the reference CLI reads Debian's own ini files only
delete $ENV{PHP_INI_SCAN_DIR};
use File::Temp qw(tempdir);

my @EXTS = qw(intl gd bcmath gmp zip sodium exif calendar gettext soap xsl bz2 ldap
              pgsql pdo_pgsql sysvmsg sysvsem sysvshm shmop
              igbinary msgpack apcu redis imagick);
my @CASES = qw(intl gd bcmath zip sodium igbinary msgpack imagick);
plan tests => 2 + 4 + @CASES + 5 + 4;

my $cli = '/usr/bin/php8.2';
-x $cli or die "$cli missing (Debian's php8.2-cli; make setup installs it)";
my $ref = json_decode(scalar `$cli @{[ top_dir() ]}/t/php/inc/ext_cases.php`);
die "the reference run by $cli failed" unless ref $ref eq 'HASH' && $ref->{imagick};

sub get {
    my ($path) = @_;
    my $r = raw_request('trueasync_extensions', path => $path, timeout => 30);
    my $j = eval { json_decode($r->{body} // '') };
    return { status => $r->{status} // 0, %{ ref $j eq 'HASH' ? $j : {} } };
}

my $l = get('/loaded');
my %loaded = map { lc($_) => 1 } @{ $l->{loaded} || [] };
is_deeply [ grep { !$loaded{$_} } @EXTS ], [], 'every extension is loaded in a request'
    or diag "loaded: @{[ sort keys %loaded ]}";
my @inis = grep { m{/conf\.d/\d+-\w+\.ini$} } split /,\s*/, ($l->{scanned} // '') =~ s/\s+\z//r;
is scalar(@inis), scalar(@EXTS), 'each from an ini of its own in the PHP\'s conf.d'
    or diag $l->{scanned};

# 16 requests at once, each running the cases 40 times over.
my $N = 16;
my @res = parallel([ map { sub { get('/cases?rounds=40') } } 1 .. $N ], 60);
is scalar(grep { $_->{status} == 200 } @res), $N, "all $N requests 200"
    or diag explain [ grep { $_->{status} != 200 } @res ];
my %by = map { ($_->{token} // '') => 1 } @res;
is scalar(keys %by), 2, 'both PHP threads ran them';
is scalar(grep { defined $_->{unstable} } @res), 0, 'each gave the same answer in every round';
# the two threads were in the extensions at the same time
my ($overlap) = (0);
for my $x (@res) { for my $y (@res) {
    next if ($x->{token} // "") eq ($y->{token} // "");
    $overlap = 1 if $x->{start} < $y->{end} && $y->{start} < $x->{end};
} }
ok $overlap, 'requests on the two threads ran them at the same time';
for my $c (@CASES) {
    my @wrong = grep { !eq_deeply_json($_->{cases}{$c}, $ref->{$c}) } @res;
    ok !@wrong, "$c: what Debian's PHP gives, in every request"
        or diag explain { got => $wrong[0]{cases}{$c}, cli => $ref->{$c} };
}

sub eq_deeply_json {
    my ($x, $y) = @_;
    return TATest::json_encode($x) eq TATest::json_encode($y);
}

# APCu: one cache for the child's threads.
my $bt = get('/apcu/boots');
is scalar(@{ $bt->{boots} || [] }), 2, 'APCu holds what both threads stored at boot'
    or diag explain $bt;
ok grep({ $_ eq $bt->{token} } @{ $bt->{boots} || [] }), '... the asking thread among them';
my $k = "k$$";
my $set = get("/apcu/set?k=$k&v=hello$$");
is $set->{status}, 200, 'APCu: a value stored by one thread';
my ($other, $tries) = (undef, 0);
while (!$other && $tries++ < 10) {
    ($other) = grep { ($_->{token} // '') ne $set->{token} } parallel([ map { sub { get("/apcu/get?k=$k") } } 1 .. 8 ], 30);
}
ok $other, 'a request reached the other thread' or diag "writer $set->{token}";
is_deeply $other && $other->{got}, { v => "hello$$", by => $set->{token} }, '... and fetched it from APCu';

# ta-phpenmod/ta-phpdismod on a copy of the PHP's mods-available.
my ($etc) = $l->{scanned} =~ m{([^,\s]+)/conf\.d/};
my $tmp = tempdir('ta-phpenmod-XXXXXX', TMPDIR => 1, CLEANUP => 1);
system('cp', '-r', "$etc/mods-available", "$tmp/");
my $tool = top_dir() . '/scripts/ta-phpenmod';
system($tool, '-c', $tmp, '-a');
is_deeply [ sort map { s{.*/}{}r } glob "$tmp/conf.d/*.ini" ], [ sort map { s{.*/}{}r } @inis ],
    'ta-phpenmod -a links each of them as the build did';
is readlink("$tmp/conf.d/25-redis.ini"), '../mods-available/redis.ini', '... redis after igbinary and msgpack (priority 25)';
system(top_dir() . '/scripts/ta-phpdismod', '-c', $tmp, 'imagick', 'intl');
is_deeply [ grep { /imagick|intl/ } `$tool -c $tmp -l` ], [ "imagick disabled\n", "intl disabled\n" ], 'ta-phpdismod disables';
system($tool, '-c', $tmp, 'intl');
ok -l "$tmp/conf.d/20-intl.ini" && !-e "$tmp/conf.d/20-imagick.ini", 'ta-phpenmod enables one again';
