# 42. exec(), shell_exec() (and backticks), system(), passthru() inside
#     request coroutines run through the reactor: 20 concurrent commands on
#     one PHP thread finish together, and every output, return value and
#     result code equals what the original functions give at worker boot.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(time);
use MIME::Base64 qw(decode_base64);
use TATest qw(raw_request parallel json_decode);

my @cmds = qw(lines no_newline blank_tail silent exit3 killed stderr binary);
plan tests => 3 * 4 + 5 + 2 * 3 * @cmds + 2;

sub get {
    my ($path) = @_;
    my $r = raw_request('trueasync_blocking', path => $path, timeout => 20);
    my $j = eval { json_decode($r->{body} // '') };
    return ($r->{status} // 0, $j // {}, $r);
}

for my $fn (qw(shell_exec exec backtick)) {
    my $N = 20;
    my $t0 = time;
    my @res = parallel([ map { my $id = "e$_"; sub {
        my ($s, $j) = get("/exec-sleep?fn=$fn&id=$id");
        return { status => $s, json => $j };
    } } 1 .. $N ], 30);
    my $elapsed = time - $t0;
    is scalar(grep { $_->{status} == 200 } @res), $N, "$fn: all $N got 200" or diag explain \@res;
    my $want = $fn eq 'exec' ? '' : "\n";
    is scalar(grep { ($_->{json}{ret} // '') eq ($_->{json}{id} // 'x') . $want } @res), $N,
        "$fn: each got its own command's output" or diag explain [ map { $_->{json} } @res ];
    ok $elapsed < 4.0, sprintf("$fn: 20 x 'sleep 1' took %.3f s (< 4 s; one after another: 20 s)", $elapsed);
    my ($max_start) = sort { $b <=> $a } map { $_->{json}{start} // 1e20 } @res;
    my ($min_end) = sort { $a <=> $b } map { $_->{json}{end} // 0 } @res;
    ok $max_start < $min_end, "$fn: all 20 commands ran at once";
}

sub unb64 {
    my $v = shift;
    return [ map { unb64($_) } @$v ] if ref $v eq 'ARRAY';
    return { map { $_ => unb64($v->{$_}) } keys %$v } if ref $v eq 'HASH';
    return decode_base64($1) if defined $v && !ref $v && $v =~ /^b64:(.*)$/s;
    return $v;
}

my ($s, $j) = get('/exec-checks');
is $s, 200, '/exec-checks -> 200';
my ($now, $boot) = (unb64($j->{now} // {}), unb64($j->{boot} // {}));
is_deeply $now, $boot, 'every output, return value and result code equals the originals at boot'
    or diag explain { now => $now, boot => $boot };
is $now->{exit3}{exec_array}[2], 3, 'a command exiting 3 gives result code 3';
is_deeply $now->{lines}{exec_array}[1], ['pre', 'a', 'b', '', 'c'],
    'exec() appends lines without trailing whitespace';
diag "kill -9 \$\$ gives result code " . ($now->{killed}{exec_array}[2] // 'undef')
    . " (boot: " . ($boot->{killed}{exec_array}[2] // 'undef') . ")";
is $now->{killed}{system}[2], $boot->{killed}{system}[2], 'a command killed by a signal: same code as PHP';

# system() and passthru() write into this request's response body.
for my $k (@cmds) {
    for my $fn (qw(system passthru)) {
        my $r = raw_request('trueasync_blocking', path => "/direct?cmd=$k&fn=$fn", timeout => 20);
        is $r->{status}, 200, "$fn($k) -> 200";
        my ($body, $json) = ($r->{body} // '') =~ /\A(.*)\n--END--\n(.*)\z/s;
        my $d = unb64(eval { json_decode($json // '') } // {});
        is $body, $d->{boot}, "$fn($k): the body holds what it printed at boot";
        ok defined $d->{rc} && $d->{rc} eq ($boot->{$k}{$fn}[2] // 'x'), "$fn($k): same result code"
            or diag explain $d;
    }
}

# Cancelling a coroutine while it runs a command kills the command's whole
# process group: the shell's background child does not outlive it.
($s, $j) = get('/cancel-group');
is $j->{class}, 'Async\AsyncCancellation', 'a coroutine cancelled in shell_exec() gets AsyncCancellation';
ok $j->{pid} && ($j->{state} eq 'gone' || $j->{state} eq 'Z'),
    "the command's background child was killed too (pid $j->{pid}, state $j->{state})" or diag explain $j;
