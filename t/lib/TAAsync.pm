package TAAsync;
# GET a path on the Async\ test worker and decode its JSON answer.
use strict;
use warnings;
use TATest qw(raw_request json_decode);
use Exporter 'import';
our @EXPORT_OK = qw(aget);

sub aget {
    my ($path, %o) = @_;
    my $r = raw_request('trueasync_async', path => $path, timeout => $o{timeout} || 15);
    my $j = eval { json_decode($r->{body} // '') };
    return ($r->{status} // 0, $j // {}, $r);
}
1;
