#!/usr/bin/env perl
# Checks the documentation: every relative link in README and docs/*.md
# names a file that exists and, with #anchor, a heading of that file
# (GitHub's anchors: lowercase, punctuation dropped, spaces to '-', a
# repeated heading gets -1, -2, ...); and every directive the module
# registers (mod_trueasync_config.c) has its own heading in
# docs/directives.md. Run by scripts/test.sh.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;

chdir(dirname(__FILE__) . '/..') or die "chdir: $!";
my @docs = ('README', sort glob('docs/*.md'));
my $status = 0;
my $links = 0;
my %anchors;    # file => { anchor => 1 }

sub slurp {
    my ($f) = @_;
    open(my $fh, '<:encoding(UTF-8)', $f) or die "$f: $!";
    local $/;
    return <$fh>;
}

# Text outside fenced code blocks, with inline code spans kept as "C" so
# that brackets inside them neither make nor break a link.
sub prose {
    my ($text) = @_;
    my @out;
    my $fenced = 0;
    for my $line (split /\n/, $text, -1) {
        if ($line =~ /^\s*```/) { $fenced = !$fenced; push @out, ''; next; }
        push @out, $fenced ? '' : $line;
    }
    my $p = join("\n", @out);
    $p =~ s/`[^`]*`/C/g;
    return $p;
}

sub anchors_of {
    my ($f) = @_;
    return $anchors{$f} if $anchors{$f};
    my (%seen, %set);
    my $fenced = 0;
    for my $line (split /\n/, slurp($f)) {
        if ($line =~ /^\s*```/) { $fenced = !$fenced; next; }
        next if $fenced || $line !~ /^#{1,6}\s+(.*?)\s*#*\s*$/;
        my $a = lc $1;
        $a =~ s/\[([^\]]*)\]\([^)]*\)/$1/g;    # a link's text only
        $a =~ s/[^\w\- ]//g;                   # \w keeps letters, digits, _
        $a =~ s/ /-/g;
        my $n = $seen{$a}++;
        $set{$n ? "$a-$n" : $a} = 1;
    }
    return $anchors{$f} = \%set;
}

for my $doc (@docs) {
    my $p = prose(slurp($doc));
    while ($p =~ /\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)/g) {
        my $target = $2;
        next if $target =~ m{^[a-z]+:}i;       # http:, https:, mailto:
        $links++;
        my ($path, $anchor) = split /#/, $target, 2;
        my $file = $path eq '' ? $doc
                 : File::Spec->abs2rel(File::Spec->rel2abs($path, dirname($doc)));
        if (!-e $file) { print "$doc: link to a missing file: $target\n"; $status = 1; next; }
        next if !defined $anchor;
        if (-d $file || !anchors_of($file)->{$anchor}) {
            print "$doc: no heading for #$anchor in $file\n";
            $status = 1;
        }
    }
}

my @directives = slurp('mod_trueasync_config.c') =~ /AP_INIT_\w+\("(\w+)"/g;
my $documented = anchors_of('docs/directives.md');
for my $d (@directives) {
    next if $documented->{lc $d};
    print "docs/directives.md has no section for the directive $d\n";
    $status = 1;
}
if ($status == 0) {
    printf "documentation: %d links in %d files lead somewhere, %d directives documented\n",
        $links, scalar @docs, scalar @directives;
}
exit $status;
