# 16. mod_deflate keeps working on worker responses (SetOutputFilter DEFLATE
#     and AddOutputFilterByType DEFLATE text/plain).
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use TATest qw(raw_request);

plan tests => 12;

my $expect = join '', map { sprintf "line %04d: the quick brown fox jumps over the lazy dog\n", $_ } 0 .. 199;

for my $loc ('/deflate/text', '/deflate-bytype/text') {
    my $r = raw_request(undef, path => $loc, headers => ['Accept-Encoding' => 'gzip']);
    is $r->{status}, 200, "$loc gzip -> 200";
    is lc(TATest::Conn::hdr($r, 'Content-Encoding') // ''), 'gzip', "$loc Content-Encoding: gzip";
    ok length($r->{body}) < length($expect) / 3, "$loc body is compressed ("
       . length($r->{body}) . ' of ' . length($expect) . ' bytes)';
    my $plain;
    gunzip(\$r->{body} => \$plain) or diag "gunzip: $GunzipError";
    ok defined $plain && $plain eq $expect, "$loc gunzipped body equals the original";

    $r = raw_request(undef, path => $loc);
    ok !defined TATest::Conn::hdr($r, 'Content-Encoding'), "$loc without Accept-Encoding: identity";
    ok $r->{body} eq $expect, "$loc without Accept-Encoding: plain body";
}
