<?php
// Worker for t/trueasync/50_userland_objects.t (TrueAsyncThreads 1): calls
// every public method of every class the module registers on objects
// userland made itself and on real objects kept past their request, and
// reports each call's outcome. No call may crash the child.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;
use function Async\{spawn, await, delay, timeout};

// A userland Awaitable: the module cannot wait for it, but may not crash on it.
final class UserAwaitable implements Async\Awaitable {}

// Every class of the module, found by namespace, so new ones are covered.
function module_classes(): array
{
    $out = [];
    foreach (array_merge(get_declared_classes(), get_declared_interfaces()) as $c) {
        if (preg_match('/^(FrankenPHP|Async)\\\\/', $c) && (new ReflectionClass($c))->isInternal()) $out[] = $c;
    }
    sort($out);
    return $out;
}

// Public methods the class itself declares (inherited Exception methods are PHP's).
function module_methods(string $class): array
{
    $out = [];
    foreach ((new ReflectionClass($class))->getMethods(ReflectionMethod::IS_PUBLIC) as $m) {
        if ($m->getDeclaringClass()->getName() === $class) $out[] = $m->getName();
    }
    sort($out);
    return $out;
}

// How a report shows a value: never the strings themselves, so a "LEAK"
// argument can only reach a body through a real write.
function show($v): string
{
    if (is_string($v)) return 'string(' . strlen($v) . ')';
    if (is_bool($v)) return $v ? 'true' : 'false';
    if (is_int($v) || $v === null) return var_export($v, true);
    if (is_array($v)) return 'array(' . count($v) . ')';
    return get_debug_type($v);
}

function thrown(Throwable $e): string { return get_class($e) . ': ' . $e->getMessage(); }

$handler = null;        // set below; onRequest() probes re-register it
$kept = null;           // real objects from the /keep request
$bgReport = null;       // what a coroutine of /keep saw after its request ended
$probeDir = sys_get_temp_dir() . '/ta-objects-' . getmypid();
@mkdir($probeDir);

function args_for(string $class, string $method): array
{
    global $handler, $probeDir;
    $r = new ReflectionMethod($class, $method);
    $args = [];
    foreach ($r->getParameters() as $p) {
        $n = $p->getName();
        $t = (string) $p->getType();
        $args[] = match (true) {
            $n === 'name' => 'X-Probe',
            $n === 'code' && $method === 'redirect' => 302,
            $n === 'code' => 299,
            $n === 'url' => '/elsewhere',
            $n === 'path' => $probeDir . '/moved-' . bin2hex(random_bytes(4)),
            $n === 'capacity' => 2,
            $n === 'key' => 'probe-key',        // Context keys are named in its exceptions
            $n === 'callback' => $handler,
            $p->allowsNull() && !str_contains($t, 'string') && !str_contains($t, 'mixed') => null,
            str_contains($t, 'int') => 1,
            default => 'LEAK-' . $method,
        };
    }
    return $args;
}

// Calls $method in its own coroutine, so a call that waits (Channel::recv)
// shows up as "waits" instead of holding the request.
function call_one(?object $obj, string $class, string $method): string
{
    $args = args_for($class, $method);
    $fn = (new ReflectionMethod($class, $method))->isStatic()
        ? fn() => $class::$method(...$args)
        : fn() => $obj->$method(...$args);
    $co = spawn($fn);
    try {
        return 'return ' . show(await($co, timeout(300)));
    } catch (Async\TimeoutException $e) {
        $co->cancel();
        return 'waits';
    } catch (Throwable $e) {
        return thrown($e);
    }
}

function call_all(?object $obj, string $class): array
{
    $out = [];
    foreach (module_methods($class) as $m) $out[$m] = call_one($obj, $class, $m);
    return $out;
}

// A real object of $class from this request, for clone.
function real_object(string $class, Request $req, Response $res): ?object
{
    return match ($class) {
        Request::class => $req,
        Response::class => $res,
        FrankenPHP\UploadedFile::class => array_values($req->getUploadedFiles())[0] ?? null,
        Async\Coroutine::class => spawn(fn() => 1),
        Async\Timeout::class => timeout(1000),
        Async\Channel::class => new Async\Channel(1),
        default => (function () use ($class) { try { return new $class(); } catch (Error $e) { return null; } })(),
    };
}

// Makes an object of $class the way $way says; returns [object|null, outcome].
function make(string $way, string $class, Request $req, Response $res): array
{
    try {
        switch ($way) {
        case 'new': $o = new $class(); break;
        case 'newInstance': $o = (new ReflectionClass($class))->newInstance(); break;
        case 'newInstanceWithoutConstructor': $o = (new ReflectionClass($class))->newInstanceWithoutConstructor(); break;
        case 'unserialize-O': $o = unserialize(sprintf('O:%d:"%s":0:{}', strlen($class), $class)); break;
        case 'unserialize-C': $o = unserialize(sprintf('C:%d:"%s":0:{}', strlen($class), $class)); break;
        case 'clone':
            $real = real_object($class, $req, $res);
            if (!$real) return [null, 'no real object'];
            $o = clone $real;
            break;
        case 'pdo':
            // FETCH_CLASSTYPE takes the class from the first column, which sets no
            // property, so PDO creates the object without any constructor.
            $st = (new PDO('sqlite::memory:'))->query("SELECT '" . str_replace("'", "''", $class) . "' AS cls");
            $st->setFetchMode(PDO::FETCH_CLASS | PDO::FETCH_CLASSTYPE);
            $o = $st->fetch();
            break;
        default: return [null, 'unknown way'];
        }
    } catch (Throwable $e) {
        return [null, thrown($e)];
    }
    if (!is_object($o)) return [null, 'return ' . show($o)];
    if (get_class($o) !== $class) return [null, 'made a ' . get_class($o) . ' instead'];
    return [$o, 'created ' . get_class($o)];
}

const WAYS = ['new', 'newInstance', 'newInstanceWithoutConstructor', 'unserialize-O', 'unserialize-C', 'clone', 'pdo'];

// Calls of functions that take module objects; each a crasher or a hang once.
function extra(string $case): string
{
    try {
        switch ($case) {
        case 'await-user-awaitable':
            return 'return ' . show(await(new UserAwaitable()));
        case 'await-user-awaitable-cancellation':
            return 'return ' . show(await(spawn(fn() => 1), new UserAwaitable()));
        case 'await_all-user-awaitable-cancellation':
            return 'return ' . show(Async\await_all([spawn(function () { delay(20); return 1; })], new UserAwaitable()));
        case 'await_any_or_fail-user-awaitable-cancellation':
            return 'return ' . show(Async\await_any_or_fail([spawn(function () { delay(20); return 1; })], new UserAwaitable()));
        case 'await-pdo-coroutine':
        case 'await-pdo-timeout':
            $class = $case === 'await-pdo-coroutine' ? Async\Coroutine::class : Async\Timeout::class;
            [$o, $how] = make('pdo', $class, ...$GLOBALS['current']);
            if (!$o) return "not created: $how";
            return 'return ' . show(await($o, timeout(300)));
        case 'await_all-pdo-coroutine':
            [$o, $how] = make('pdo', Async\Coroutine::class, ...$GLOBALS['current']);
            if (!$o) return "not created: $how";
            return 'return ' . show(Async\await_all([$o], timeout(300)));
        case 'runner-by-reflection':
            return 'return ' . show((new ReflectionMethod(Async\Coroutine::class, 'runner'))->invoke(null));
        case 'loop-by-reflection':
            return 'return ' . show((new ReflectionMethod(HttpServer::class, 'loop'))->invoke(null));
        case 'channel-construct-twice':
            $c = new Async\Channel(2);
            $c->send('a'); $c->send('b');
            try { $c->__construct(0); $again = 'return'; } catch (Throwable $e) { $again = thrown($e); }
            return "construct again: $again; recv: " . show($c->recv()) . ', ' . show($c->recv())
                . '; count ' . $c->count();
        case 'channel-huge-capacity':
            // the largest capacity php-async takes (2^31 - 1); more is a ValueError
            try { new Async\Channel(PHP_INT_MAX); $over = 'accepted'; } catch (ValueError $e) { $over = 'ValueError'; }
            $c = new Async\Channel(2147483647);
            for ($i = 0; $i < 100; $i++) $c->send($i);
            $sum = 0;
            while ($c->count()) $sum += $c->recv();
            return "capacity " . $c->capacity() . ", sum $sum; PHP_INT_MAX: $over";
        }
    } catch (Throwable $e) {
        return thrown($e);
    }
    return 'unknown case';
}

const EXTRAS = ['await-user-awaitable', 'await-user-awaitable-cancellation', 'await_all-user-awaitable-cancellation',
                'await_any_or_fail-user-awaitable-cancellation', 'await-pdo-coroutine', 'await-pdo-timeout',
                'await_all-pdo-coroutine', 'runner-by-reflection', 'loop-by-reflection',
                'channel-construct-twice', 'channel-huge-capacity'];

// Real objects in every state a request can leave them in.
function keep(Request $req, Response $res): array
{
    global $probeDir;
    $files = $req->getUploadedFiles();
    $moved = $files['moved'];
    $moved->moveTo($probeDir . '/kept-moved');
    $deleted = $files['deleted'];
    unlink($deleted->getTmpName());
    $done = spawn(fn() => 'result');
    await($done);
    $failed = spawn(function () { throw new DomainException('failed on purpose'); });
    try { await($failed); } catch (DomainException $e) {}
    $cancelled = spawn(fn() => delay(10000));
    Async\suspend();
    $cancelled->cancel();
    $closed = new Async\Channel(1);
    $closed->send('left');
    $closed->close();
    $fired = timeout(5);
    try { await($fired); } catch (Async\TimeoutException $e) {}
    return [
        'Request' => [Request::class, $req],
        'Response' => [Response::class, $res],
        'UploadedFile' => [FrankenPHP\UploadedFile::class, $files['file']],
        'UploadedFile-moved' => [FrankenPHP\UploadedFile::class, $moved],
        'UploadedFile-deleted' => [FrankenPHP\UploadedFile::class, $deleted],
        'Coroutine-done' => [Async\Coroutine::class, $done],
        'Coroutine-failed' => [Async\Coroutine::class, $failed],
        'Coroutine-cancelled' => [Async\Coroutine::class, $cancelled],
        'Channel-closed' => [Async\Channel::class, $closed],
        'Timeout-fired' => [Async\Timeout::class, $fired],
    ];
}

function report_kept(array $kept): array
{
    $out = [];
    foreach ($kept as $label => [$class, $obj]) $out[$label] = call_all($obj, $class);
    return $out;
}

$handler = function (Request $req, Response $res) {
    global $kept, $bgReport;
    $GLOBALS['current'] = [$req, $res];
    $q = $req->getQueryParams();
    $out = null;
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/pid':
        $out = ['pid' => getmypid()];
        break;
    case '/plan':
        $classes = [];
        foreach (module_classes() as $c) $classes[$c] = module_methods($c);
        $out = ['classes' => $classes, 'ways' => WAYS, 'extras' => EXTRAS];
        break;
    case '/call':
        // One object, made one way; with method= also one call on it.
        [$o, $how] = make($q['way'], $q['class'], $req, $res);
        $out = ['made' => $how];
        if ($o && ($q['method'] ?? '') !== '') $out['call'] = call_one($o, $q['class'], $q['method']);
        break;
    case '/extra':
        $out = ['outcome' => extra($q['case'])];
        break;
    case '/victim':
        // Another request in flight while stale objects are used.
        $res->write('victim:A|');
        delay((int) ($q['ms'] ?? 1500));
        $res->write('victim:B');
        $res->end();
        return;
    case '/keep':
        $kept = keep($req, $res);
        $bgReport = null;
        spawn(function () use (&$bgReport, $kept) {
            delay(200);              // the request has ended by then
            echo "LEAK-background-echo\n";
            $bgReport = report_kept($kept);
        });
        $out = ['kept' => array_keys($kept)];
        break;
    case '/writer-start':
        // A coroutine of this request waits in write() (the first chunk is not
        // taken yet) when the handler returns and the response ends under it.
        $GLOBALS['writer'] = 'still waiting';
        spawn(function () use ($res) {
            try {
                $res->write(str_repeat('a', 1000));
                $res->write(str_repeat('b', 1000));
                $GLOBALS['writer'] = 'both written';
            } catch (Throwable $e) {
                $GLOBALS['writer'] = thrown($e);
            }
        });
        Async\suspend();
        return;
    case '/writer-result':
        $out = ['outcome' => $GLOBALS['writer'] ?? null];
        break;
    case '/bg-report':
        $out = ['report' => $bgReport];
        break;
    case '/later':
        $out = ['report' => $kept ? report_kept($kept) : null];
        break;
    default:
        $res->setStatus(404);
        $out = ['error' => 'no such path'];
    }
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode($out, JSON_UNESCAPED_SLASHES));
    $res->end();
};
HttpServer::onRequest($handler);
