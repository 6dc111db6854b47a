# Defects of the Async\ API found by TrueAsync's own examples (issue 11):
# await_any_or_fail() answers with the first awaitable to complete, not the
# first in input order; every iterable works where one is taken (Generator,
# ArrayIterator, IteratorAggregate), keys preserved; an exception that is
# awaited after the coroutine failed is not logged as unobserved, while one
# nobody ever observes still is.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use TATest qw(raw_request json_decode log_mark wait_log log_since);

plan tests => 7;
my $V = 'trueasync_isolation';

is raw_request($V, path => '/any-order')->{body}, 'RuntimeException: a failed first',
    'await_any_or_fail: the first to complete (it failed) decides, not input order';

my $o = json_decode(raw_request($V, path => '/iterables')->{body} // '{}');
is_deeply $o->{generator}, { x => 1, y => 2 }, 'await_all over a Generator, keys kept';
is_deeply $o->{arrayiterator}, { 5 => 'five' }, 'await_all over an ArrayIterator, keys kept';
is_deeply $o->{aggregate}, { p => 'P' }, 'await_all over an IteratorAggregate';
is $o->{any_generator}, 'g', 'await_any_or_fail over a Generator';

my $id = 't' . time . $$;
my $mark = log_mark();
is raw_request($V, path => "/observed-later?id=$id")->{body}, "caught later-$id;", 'the later await catches it';
wait_log($mark, qr/orphan-\Q$id\E/, 5);
my $log = log_since($mark) // '';
ok $log !~ /later-\Q$id\E/ && $log =~ /Uncaught LogicException in coroutine \d+: orphan-\Q$id\E/,
    'only the exception nobody observed is logged' or diag $log;
