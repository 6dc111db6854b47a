# The module's arginfo is generated from stubs/<file>.stub.php; what the
# generation cannot promise is checked here: that every class and function
# of the stubs is registered, with the flags the C code adds (final enums),
# and nothing more. The worker t/php/stub_api.php describes through
# Reflection every class, interface, function and constant the module
# registers (namespaces FrankenPHP\ and Async\ and whatever the trueasync
# extension owns); t/php/inc/describe_stub.php, run by the CLI of the same
# PHP build, declares trueasync.stub.php (the parts in one file, as
# scripts/stubs-assemble.php makes it for IDEs) in a process of its own and
# describes it with the same code (t/php/inc/describe_api.inc). Any
# difference fails, one diagnostic line each.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode top_dir);

plan tests => 6;

my $top = top_dir();

# The CLI of the PHP the module is built with: same version, same Reflection.
sub php_cli {
    return $ENV{TRUEASYNC_PHP_CLI} if $ENV{TRUEASYNC_PHP_CLI};
    open my $fh, '<', "$top/build/php-config.path" or return;
    chomp(my $pc = <$fh> // '');
    return unless $pc && -x $pc;
    chomp(my $bin = `$pc --php-binary 2>/dev/null` // '');
    return $bin if $bin && -x $bin;
    chomp(my $prefix = `$pc --prefix 2>/dev/null` // '');
    return -x "$prefix/bin/php" ? "$prefix/bin/php" : undef;
}

my $r = raw_request('trueasync_stub', path => '/');
is $r->{status}, 200, 'the worker describes the module\'s API';
my $runtime = eval { json_decode($r->{body}) }
    || do { print STDERR "# runtime side: ", ($r->{error} // $@), "\n# ", substr($r->{body} // '', 0, 300), "\n"; {} };

my $php = php_cli();
ok $php, 'the CLI of the module\'s PHP build is there (set TRUEASYNC_PHP_CLI to name it)';
my $stub_file = "$top/t/state/trueasync.stub.php";
system("mkdir -p '$top/t/state' && '$php' '$top/scripts/stubs-assemble.php' '$top/stubs' > '$stub_file'") if $php;
my $out = $php ? `'$php' -n -d display_errors=stderr -d error_reporting=-1 '$top/t/php/inc/describe_stub.php' '$stub_file'` : '';
is $?, 0, 'the stub declares and describes in a plain PHP process';
my $stub = eval { json_decode($out) }
    || do { print STDERR "# stub side: $@# ", substr($out, 0, 300), "\n"; {} };

is $stub->{php}, $runtime->{php}, 'both sides use the same PHP version';

# Both sides must see the API at all, or an empty comparison would pass.
ok +(grep { $_->{api}{classes}{'FrankenPHP\\Request'} && $_->{api}{functions}{'Async\\spawn()'} } $runtime, $stub) == 2,
   'both descriptions have FrankenPHP\\Request and Async\\spawn()';

sub show {
    my $v = shift;
    return 'none' unless defined $v;
    return ref $v eq 'HASH' ? '{...}' : JSON::PP::is_bool($v) ? ($v ? 'true' : 'false') : "\"$v\"";
}

# Every difference between the two nested descriptions, as "path: ..." lines.
sub differences {
    my ($rt, $st, $path) = @_;
    my @d;
    if (ref $rt eq 'HASH' && ref $st eq 'HASH') {
        my %k = map { $_ => 1 } keys %$rt, keys %$st;
        for my $k (sort keys %k) {
            my $p = $path eq '' ? $k : "$path > $k";
            if (!exists $st->{$k})    { push @d, "$p: in the runtime, not in the stub" }
            elsif (!exists $rt->{$k}) { push @d, "$p: in the stub, not in the runtime" }
            else                      { push @d, differences($rt->{$k}, $st->{$k}, $p) }
        }
    } elsif (show($rt) ne show($st)) {
        push @d, "$path: runtime " . show($rt) . ', stub ' . show($st);
    }
    return @d;
}

my @diff = differences($runtime->{api} // {}, $stub->{api} // {}, '');
# On STDERR, so a plain (non -verbose) run shows them too.
print STDERR "# $_\n" for @diff;
is scalar(@diff), 0, 'stubs/*.stub.php match what the module registers';
