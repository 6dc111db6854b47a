# 50. No userland call on a module object can crash the child: every public
#     method of every class (listed by the worker with Reflection) is called
#     on objects userland made itself (new, Reflection, unserialize, clone,
#     PDO) and on real objects kept after their request ended, from a later
#     request and from a coroutine of the ended request. The same child
#     answers afterwards, nothing reaches another response, and the calls
#     that once crashed or hung give clear errors.
use strict;
use warnings;
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use TATest qw(raw_request json_decode log_mark log_since child_crashes);

my $V = 'trueasync_objects';
my $mark = log_mark();
my @bodies;          # every body the probes got, checked for leaked writes

sub multipart {
    my @files = @_;
    my $b = 'ta-objects-boundary';
    my $body = '';
    for my $f (@files) {
        $body .= "--$b\r\nContent-Disposition: form-data; name=\"$f\"; filename=\"$f.txt\"\r\n"
               . "Content-Type: text/plain\r\n\r\ncontent of $f\r\n";
    }
    $body .= "--$b--\r\n";
    return (headers => ['Content-Type' => "multipart/form-data; boundary=$b"], body => $body);
}

sub esc { my $s = shift; $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge; $s }

# GET/POST one path; returns the decoded JSON, or { crash => why } when the
# answer is not a complete JSON response (the child died under it).
sub probe {
    my ($path, @files) = @_;
    my $r = raw_request($V, method => @files ? 'POST' : 'GET', path => $path,
                        (@files ? multipart(@files) : ()), timeout => 20);
    push @bodies, $r->{body} // '';
    my $j = ($r->{status} // 0) == 200 ? eval { json_decode($r->{body}) } : undef;
    return $j // { crash => "status " . ($r->{status} // 'none') . ($r->{error} ? ", $r->{error}" : '') };
}

my $pid0 = probe('/pid')->{pid};
ok $pid0, "the worker answers (child pid $pid0)";

my $plan = probe('/plan');
my @classes = sort keys %{ $plan->{classes} || {} };
ok scalar(grep { $_ eq 'FrankenPHP\\UploadedFile' } @classes) && scalar(grep { $_ eq 'Async\\Channel' } @classes),
    'the worker lists the module classes: ' . join(' ', @classes);

# ---- (a) objects made by userland, every way there is -----------------------
my (%made, %call, @table);
for my $way (@{ $plan->{ways} }) {
    for my $class (@classes) {
        my $q = '/call?way=' . esc($way) . '&class=' . esc($class);
        my $m = probe($q, 'file');
        $made{$way}{$class} = $m->{crash} ? "CRASH ($m->{crash})" : $m->{made};
        push @table, "$way $class: $made{$way}{$class}";
        next unless ($m->{made} // '') =~ /^created/;
        for my $method (@{ $plan->{classes}{$class} }) {
            my $c = probe("$q&method=" . esc($method), 'file');
            my $o = $c->{crash} ? "CRASH ($c->{crash})" : $c->{call};
            $call{$way}{$class}{$method} = $o;
            push @table, "  ${class}::$method(): $o";
        }
    }
}
my %extra;
for my $case (@{ $plan->{extras} }) {
    my $e = probe('/extra?case=' . esc($case));
    $extra{$case} = $e->{crash} ? "CRASH ($e->{crash})" : $e->{outcome};
    push @table, "extra $case: $extra{$case}";
}

my $wr = raw_request($V, path => '/writer-start');
sleep 0.3;
$extra{'write-waiting-when-request-ends'} = probe('/writer-result')->{outcome} // 'none';
push @table, "extra write-waiting-when-request-ends: $extra{'write-waiting-when-request-ends'}";

# ---- (b) real objects kept past their request ---------------------------------
# A request in flight on the same thread the whole time: its body must be
# exactly what it wrote.
my $victim = TATest::Conn->new($V);
$victim->send_request(path => '/victim?ms=2500');
sleep 0.2;
my $keep = probe('/keep', qw(file moved deleted));
sleep 0.6;           # the /keep coroutine runs its probes 200 ms after the end
my $bg = probe('/bg-report');
my $later = probe('/later');
my $vr = $victim->read_response(timeout => 20);
for my $who (['later request', $later->{report}], ['background coroutine', $bg->{report}]) {
    next unless ref $who->[1] eq 'HASH';
    for my $label (sort keys %{ $who->[1] }) {
        next unless ref $who->[1]{$label} eq 'HASH';    # [] for a class without methods
        for my $m (sort keys %{ $who->[1]{$label} }) {
            push @table, "kept $label, $who->[0]: $m(): $who->[1]{$label}{$m}";
        }
    }
}

# Written for the report: the whole table (t/logs/objects_outcomes.txt).
if (open my $fh, '>', Apache::Test::vars('t_logs') . '/objects_outcomes.txt') {
    print $fh "$_\n" for @table;
}

# ---- the child survived, nothing leaked ----------------------------------------
my $pid1 = probe('/pid')->{pid} // 'none';
is $pid1, $pid0, 'the same child answers after every call';
my @crashes = child_crashes($mark);
is scalar(@crashes), 0, 'no child died from a signal' or diag join "\n", @crashes;
my @crash_rows = grep { /CRASH/ } @table;
is scalar(@crash_rows), 0, 'every call got its answer' or diag join "\n", @crash_rows;
is $vr->{body}, 'victim:A|victim:B', 'the request in flight got exactly its own body';
my @leaks = grep { /LEAK/ } @bodies, $vr->{body} // '';
is scalar(@leaks), 0, 'no write on a stale or unattached object reached any response';
like log_since($mark), qr/PHP output outside a request: LEAK-background-echo/,
    'echo from a coroutine whose request ended goes to the log';

# ---- construction is refused the way PHP refuses it for its own classes ---------
my $iface = qr/^Async\\(Awaitable|Completable|ScopeProvider|SpawnStrategy|CircuitBreaker|CircuitBreakerStrategy|ChannelCloseReason|Signal|CircuitBreakerState)$/;  # and enums
my $throwable = qr/Exception$|Error$|Cancellation$/;
my @sealed = grep { !/$throwable|$iface|^Async\\(Channel|Scope|Future|FutureState|TaskGroup|TaskSet|Pool|FileSystemWatcher)$/ } @classes;
for my $class (@sealed) {
    is $made{new}{$class}, "Error: Instantiation of class $class is not allowed", "new $class refused";
    is $made{newInstance}{$class}, "Error: Instantiation of class $class is not allowed",
        "ReflectionClass::newInstance() of $class refused";
}
for my $class (grep { !/$throwable|$iface/ } @classes) {
    like $made{newInstanceWithoutConstructor}{$class}, qr/^ReflectionException: Class \Q$class\E is an internal class marked as final that cannot be instantiated without invoking its constructor/,
        "newInstanceWithoutConstructor() of $class refused";
    for my $w ('unserialize-O', 'unserialize-C') {
        is $made{$w}{$class}, "Exception: Unserialization of '$class' is not allowed", "$w of $class refused";
    }
    like $made{clone}{$class}, qr/^(Error: Trying to clone an uncloneable object of class \Q$class\E|no real object)$/,
        "clone of $class refused";
}
like $made{new}{'Async\\Channel'}, qr/^created/, 'new Async\Channel still works';
like $made{new}{'Async\\Scope'}, qr/^created/, 'new Async\Scope works';
like $made{new}{'Async\\FutureState'}, qr/^created/, 'new Async\FutureState works';

# PDO's FETCH_CLASSTYPE makes objects without any constructor: every method
# of such an object says it is not attached, none crashes.
my %detached = (
    'FrankenPHP\\Request'      => qr/^Error: This FrankenPHP\\Request is not attached to an HTTP request$/,
    'FrankenPHP\\Response'     => qr/^Error: This FrankenPHP\\Response is not attached to an HTTP request$/,
    'FrankenPHP\\UploadedFile' => qr/^Error: This FrankenPHP\\UploadedFile is not attached to an uploaded file$/,
    'Async\\Coroutine'         => qr/^Error: This Async\\Coroutine was not started by Async\\spawn\(\)$/,
);
for my $class (sort keys %detached) {
    my $calls = $call{pdo}{$class};
    SKIP: {
        skip "PDO did not create a $class ($made{pdo}{$class})", 1 unless $calls;
        my @bad = grep { $calls->{$_} !~ $detached{$class} } sort keys %$calls;
        is scalar(@bad), 0, "every method of a PDO-made $class throws 'not attached'"
            or diag join "\n", map { "$_(): $calls->{$_}" } @bad;
    }
}

# ---- calls that used to crash or hang -------------------------------------------
like $extra{'await-user-awaitable'}, qr/^TypeError: /, 'await() of a userland Awaitable: TypeError';
for my $f ('await-user-awaitable-cancellation', 'await_all-user-awaitable-cancellation',
           'await_any_or_fail-user-awaitable-cancellation') {
    like $extra{$f}, qr/^TypeError: .*cancellation/, "$f: TypeError (used to crash)";
}
for my $f ('await-pdo-coroutine', 'await-pdo-timeout', 'await_all-pdo-coroutine') {
    like $extra{$f}, qr/^(Error: This Async\\(Coroutine|Timeout) was not (started|made) by Async\\(spawn|timeout)\(\)|not created: .*)$/,
        "$f: Error instead of waiting forever";
}
is $extra{'write-waiting-when-request-ends'}, 'Error: Cannot write: the response has already ended',
    'a write() waiting when its request ends fails instead of waiting forever';
is $extra{'runner-by-reflection'}, 'Error: Async\\Coroutine::runner() is internal', 'Coroutine::runner() by reflection refused';
is $extra{'loop-by-reflection'}, 'Error: HttpServer::loop() is internal', 'HttpServer::loop() by reflection refused';
is $extra{'channel-construct-twice'},
    'construct again: Error: Async\\Channel object is already constructed; recv: string(1), string(1); count 0',
    'a second Channel::__construct() is refused and the channel keeps working (used to divide by zero)';
is $extra{'channel-huge-capacity'}, 'capacity 2147483647, sum 4950; PHP_INT_MAX: ValueError',
    'new Channel(2147483647) allocates as it fills (a huge capacity used to be a fatal error); more is refused as php-async does';

# ---- real objects kept from a finished request -------------------------------------
for my $who (['a later request', $later->{report}], ['a coroutine after its request ended', $bg->{report}]) {
    my ($w, $r) = @$who;
    ok ref $r eq 'HASH' && $r->{Request}, "kept objects used from $w" or next;
    is $r->{Request}{getMethod}, 'return string(4)', "kept Request still reads its own request ($w)";
    is $r->{Response}{write}, 'Error: Cannot write: the response has already ended', "kept Response::write() ($w)";
    is $r->{Response}{setHeader}, 'Error: Cannot modify the response: headers already sent', "kept Response::setHeader() ($w)";
    is $r->{Response}{end}, 'return NULL', "kept Response::end() does nothing ($w)";
    is $r->{'UploadedFile-moved'}{moveTo}, 'return false', "moveTo() of a moved file is false ($w)";
    is $r->{'UploadedFile-moved'}{getName}, 'return string(9)', "a moved UploadedFile keeps its name ($w)";
    is $r->{'Coroutine-done'}{getResult}, 'return string(6)', "finished Coroutine::getResult() ($w)";
    is $r->{'Coroutine-failed'}{getException}, 'return DomainException', "failed Coroutine::getException() ($w)";
    is $r->{'Coroutine-cancelled'}{isCancelled}, 'return true', "cancelled Coroutine::isCancelled() ($w)";
    is $r->{'Channel-closed'}{send}, 'Async\\ChannelException: Channel is closed', "closed Channel::send() ($w)";
}
like ref $later->{report} eq 'HASH' ? $later->{report}{'UploadedFile-deleted'}{moveTo} : '', qr/^return false$/, 'moveTo() of a deleted tmp file is false';

done_testing();
