# php-async's FileSystemWatcher (issue 11): changes in a directory come
# as readonly FileSystemEvent objects through foreach until close(); the
# extension filter; debounceMs holds a burst back until it settles.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode);

my $V = 'trueasync_fswatch';
sub get {
    my $r = raw_request($V, path => shift, timeout => 10);
    return eval { json_decode($r->{body}) } || { error => "HTTP " . ($r->{status} // '?') . " $r->{body}" };
}

my $o = get('/watch');
my @seen = @{$o->{seen} // []};
ok @seen >= 2, 'events came for the writes and the rename (' . scalar(@seen) . ')';
is $seen[0]{file}, 'a.txt', 'the first names the file written';
ok $seen[0]{changed}, 'a write is a change';
ok((grep { $_->{file} eq 'b.txt' && $_->{renamed} } @seen), 'the rename names the new file, renamed');
ok !(grep { !$_->{path} } @seen), '$path is the watched directory';
is $seen[0]{class}, 'Async\\FileSystemEvent', 'FileSystemEvent objects';
ok $o->{closed}, 'close() ends the foreach';
is $o->{readonly}, 'Error', 'FileSystemEvent is readonly';

$o = get('/filter');
is_deeply $o->{files}, ['keep.php'], 'extensions: [\'php\'] passes only .php files';

$o = get('/debounce');
is $o->{first}, 'burst.txt', 'debounceMs: the burst comes as its file';
ok $o->{after_ms} >= 75, sprintf('only once the writes settled for 80 ms (%.1f ms after the first)', $o->{after_ms} // -1);

done_testing();
