<?php
/**
 * Signatures of the PHP API mod_trueasync provides inside a worker script.
 * For IDEs and static analysis: the module never loads this file.
 * t/trueasync/60_stub_matches_runtime.t fails on any difference between it
 * and what the module registers (names, types, defaults, flags, private
 * methods included), so change it with the arginfo tables.
 *
 * @generate-nothing
 *
 * Objects of HttpServer, Request, Response, UploadedFile, Coroutine and
 * Timeout only come from the module: `new` throws Error ("Instantiation of
 * class X is not allowed"). No module object can be cloned or serialized.
 */

namespace {
    /**
     * The root of cancellations. TrueAsync's PHP has it in its core; for
     * PHP 8.2 the module declares it (as an Error, so catch (Exception) does
     * not swallow a cancellation).
     */
    class Cancellation extends \Error {}
}

namespace FrankenPHP {

    final class HttpServer
    {
        /**
         * Registers the request handler of this PHP thread. Call it once from
         * the worker script; when the script returns, the thread serves every
         * request by calling $callback(Request, Response) in a coroutine of its
         * own. Calling it again replaces the handler.
         */
        public static function onRequest(callable $callback): bool {}

        /** Internal: the thread's event loop runs in its frame; throws Error if called. */
        private static function loop(): void {}
        /** Internal: the body of each request coroutine; throws Error if called. */
        private static function handle(mixed $handler, object $request, object $response, bool $classic): void {}
    }

    final class Request
    {
        public function getMethod(): string {}
        /** The request target as sent: path plus "?query" if any. */
        public function getUri(): string {}
        /** The Host header (with port if the client sent one). */
        public function getHost(): string {}
        /** Case-insensitive; repeated headers joined with ", "; null if absent. */
        public function getHeader(string $name): ?string {}
        /** @return array<string, string> name as sent => value */
        public function getHeaders(): array {}
        public function getRemoteAddr(): string {}
        /** "HTTP/1.0", "HTTP/1.1" or "HTTP/2.0", as FrankenPHP gives it. */
        public function getProtocolVersion(): string {}
        /** "http" or "https". */
        public function getScheme(): string {}
        /** Parsed like $_GET (a[]=1 and a[k]=1 build arrays). */
        public function getQueryParams(): array {}
        /** Parsed like $_COOKIE. */
        public function getCookies(): array {}
        /** The raw request body, whole (already read by Apache). */
        public function getBody(): string {}
        /**
         * Form fields for application/x-www-form-urlencoded and
         * multipart/form-data bodies (any method), parsed like $_POST;
         * null for any other content type.
         */
        public function getParsedBody(): ?array {}
        /** @return array<string, UploadedFile|array> field name => file(s), like $_FILES but objects */
        public function getUploadedFiles(): array {}
    }

    final class Response
    {
        /** @throws \ValueError outside 100..599; \Error once headers were sent */
        public function setStatus(int $code): void {}
        public function getStatus(): int {}
        /**
         * Replaces every value of the header.
         * @throws \ValueError for an invalid name or a value with CR, LF or NUL
         * @throws \Error once headers were sent
         */
        public function setHeader(string $name, string $value): void {}
        /** Adds one more value (e.g. another Set-Cookie). Same errors as setHeader(). */
        public function addHeader(string $name, string $value): void {}
        public function removeHeader(string $name): void {}
        /** Values joined with ", "; null if absent. */
        public function getHeader(string $name): ?string {}
        /** @return array<string, list<string>> */
        public function getHeaders(): array {}
        /** True once write(), end() or echo sent the status line and headers. */
        public function isHeadersSent(): bool {}
        /**
         * Sets Location and the status, then ends the response.
         * @throws \ValueError unless 300 <= $code <= 399, or for CR/LF/NUL in $url
         */
        public function redirect(string $url, int $code = 302): void {}
        /**
         * Streams $data to the client now (one chunk through Apache's output
         * filters). If the previous chunk has not been taken by Apache yet, the
         * calling coroutine (not the thread) waits for it first.
         * @throws \Error after end()
         * @throws \Async\CancellationError if the client went away while waiting
         */
        public function write(string $data): void {}
        /** Finishes the response; a second call does nothing. */
        public function end(): void {}
        /**
         * Hands the file to Apache as the whole body (sendfile, Range,
         * ETag/Last-Modified and conditional requests, the type from
         * mod_mime unless $contentType or a Content-Type header is set)
         * and ends the response; buffered output is discarded. Only files
         * whose real path lies under a TrueAsyncSendFilePath directory:
         * RuntimeException otherwise, or when there is no such file.
         * Error once the headers were sent.
         */
        public function sendFile(string $path, ?string $contentType = null): void {}
    }

    final class UploadedFile
    {
        /** The client's file name (last path component only). */
        public function getName(): string {}
        public function getType(): string {}
        public function getSize(): int {}
        public function getTmpName(): string {}
        /** One of the UPLOAD_ERR_* constants. */
        public function getError(): int {}
        /** Moves the uploaded file; false if it failed (a warning says why). */
        public function moveTo(string $path): bool {}
    }
}

namespace Async {

    /** Something a coroutine can wait for: a Coroutine, a timeout(), a Scope's completion. */
    interface Awaitable {}

    /** An awaitable that completes once and can be cancelled. */
    interface Completable extends Awaitable
    {
        public function cancel(?AsyncCancellation $cancellation = null): void;
        public function isCompleted(): bool;
        public function isCancelled(): bool;
    }

    /** Something that names the Scope spawn_with() spawns into (null: the current one). */
    interface ScopeProvider
    {
        public function provideScope(): ?Scope;
    }

    /** A ScopeProvider told about each coroutine spawn_with() spawns through it. */
    interface SpawnStrategy extends ScopeProvider
    {
        public function beforeCoroutineEnqueue(Coroutine $coroutine, Scope $scope): array;
        public function afterCoroutineEnqueue(Coroutine $coroutine, Scope $scope): void;
    }

    /**
     * Starts $task(...$args) in a new coroutine on this PHP thread. One
     * spawned while a request is handled belongs to that request (its output
     * goes to that response) and is cancelled when the worker stops.
     * @throws \TypeError if $task is not callable
     */
    function spawn(callable $task, mixed ...$args): Coroutine {}

    /**
     * Starts $task(...$args) in the Scope $provider names (a Scope is its
     * own provider); a SpawnStrategy hears of the coroutine before and after.
     * @throws AsyncException if that scope is closed
     */
    function spawn_with(ScopeProvider $provider, callable $task, mixed ...$args): Coroutine {}

    /**
     * Waits for $awaitable and returns its result (or throws its exception).
     * If $cancellation completes first it throws OperationCanceledException
     * with what the token failed with (a timeout()'s TimeoutException) as
     * its previous. Outside a coroutine (worker boot) it runs the event loop
     * until done.
     */
    function await(Completable $awaitable, ?Completable $cancellation = null): mixed {}

    /**
     * Waits for all of them.
     * @return array{0: array, 1: array<\Throwable>} [results, errors], keyed like $triggers
     */
    function await_all(iterable $triggers, ?Awaitable $cancellation = null,
                       bool $preserveKeyOrder = true, bool $fillNull = false): array {}

    /**
     * The outcome of whichever completes first; throws if that one failed.
     * @throws \ValueError for an empty iterable
     */
    function await_any_or_fail(iterable $triggers, ?Awaitable $cancellation = null): mixed {}

    /**
     * Waits for every trigger; returns their results keyed like $triggers
     * (in input order with $preserveKeyOrder, else in completion order).
     * The first failure (by completion) is thrown at once.
     */
    function await_all_or_fail(iterable $triggers, ?Awaitable $cancellation = null, bool $preserveKeyOrder = true): array {}

    /**
     * [the result of the first trigger to succeed, the errors (keyed) of
     * those that failed before it]; [null, all errors] if none succeeds.
     */
    function await_first_success(iterable $triggers, ?Awaitable $cancellation = null): mixed {}

    /**
     * [results, errors], keyed like $triggers, once $count of them have
     * succeeded (or all are in); $fillNull puts null in results for failures.
     */
    function await_any_of(int $count, iterable $triggers, ?Awaitable $cancellation = null,
                          bool $preserveKeyOrder = true, bool $fillNull = false): array {}

    /** The first $count results, keyed like $triggers; the first failure is thrown. */
    function await_any_of_or_fail(int $count, iterable $triggers, ?Awaitable $cancellation = null,
                                  bool $preserveKeyOrder = true): array {}

    /**
     * The coroutine calling it (a request handler's included: its object is
     * made on first use). Outside any coroutine: AsyncException.
     */
    function current_coroutine(): Coroutine {}

    /**
     * Runs $closure with cancellation held off: a cancel() of the calling
     * coroutine meanwhile lets the closure finish (its waits go on) and is
     * thrown when it returns. Outside a coroutine it just calls it.
     */
    function protect(\Closure $closure): mixed {}

    /** Every coroutine of this PHP thread that has not finished, request coroutines included. */
    function get_coroutines(): array {}

    /** CPUs this process may use (affinity and cgroup quotas count); at least 1. */
    function available_parallelism(): int {}

    /**
     * This PHP thread's scheduler: coroutines_total, coroutines_active,
     * microtasks_queue (always 0 here), coroutine_queue (not started yet),
     * resumed_queue, fiber_pool_count, fiber_pool_capacity, fiber_pool_min,
     * fiber_stack_size, fiber_pool_virtual_bytes.
     */
    function runtime_stats(): array {}

    /**
     * Since this thread's previous call (the first: since the process
     * started): process_cores, process_percent, system_percent, cpu_count,
     * interval_sec, loadavg.
     */
    function cpu_usage(): array {}

    /** [1 min, 5 min, 15 min], or null where the system has none. */
    function loadavg(): ?array {}

    /**
     * A Future that resolves to $signal once the process receives it.
     * @throws \ValueError for a signal Apache httpd owns (TERM, HUP, USR1,
     *   WINCH, INT, QUIT), one that cannot be waited for (KILL, SEGV, ILL,
     *   FPE, ABRT) or a Windows one (BREAK, ABRT2); SIGUSR2 is free
     */
    function signal(Signal $signal, ?Completable $cancellation = null): Future {}

    /**
     * $callback($value, $key) for each element, each in a coroutine of a
     * Scope of its own, $concurrency at a time (0: one at a time); false
     * from a callback stops it, an exception stops it and is rethrown. What
     * the callbacks spawned is cancelled at the end ($cancelPending) or
     * awaited.
     */
    function iterate(iterable $iterable, callable $callback, int $concurrency = 0, bool $cancelPending = true): void {}

    /**
     * The PHP thread stops taking requests, lets those in flight finish,
     * cancels what else runs and boots its worker script afresh (the other
     * threads serve meanwhile).
     */
    function graceful_shutdown(?AsyncCancellation $cancellationError = null): void {}

    /** The Context of the current Scope (a request handler's: the request's). */
    function current_context(): Context {}

    /** The calling coroutine's own Context (outside coroutines: the main Scope's). */
    function coroutine_context(): Context {}

    /** The Context of the PHP thread's main Scope, shared by every request on the thread. */
    function root_context(): Context {}

    /** The Context of the HTTP request being served; null outside a request's Scope tree. */
    function request_context(): ?Context {}

    /**
     * Suspends the calling coroutine for $ms milliseconds; other coroutines
     * of the thread run meanwhile. Outside a coroutine (while the worker
     * script boots) it blocks like usleep().
     * @throws \ValueError if $ms < 0
     * @throws AsyncCancellation if the coroutine is cancelled while waiting
     */
    function delay(int $ms): void {}

    /** Lets the other ready coroutines of the thread run, then continues. */
    function suspend(): void {}

    /**
     * An awaitable that completes $ms milliseconds from now; awaiting it
     * throws TimeoutException (as a cancellation token, see await()).
     * @throws \ValueError if $ms <= 0
     */
    function timeout(int $ms): Awaitable {}

    final class Coroutine implements Completable
    {
        public function getId(): int {}
        /** Deprecated alias of isCompleted(). */
        public function isFinished(): bool {}
        /** It was cancelled and has finished (php-async's meaning). */
        public function isCancelled(): bool {}
        /** It has finished (returned, thrown or been cancelled). */
        public function isCompleted(): bool {}
        /** It has begun running (or has finished). */
        public function isStarted(): bool {}
        /** It is ready to run: to start, or to resume after its wait. */
        public function isQueued(): bool {}
        /** Started and not completed (as php-async: also while it waits). */
        public function isRunning(): bool {}
        /** Started, not completed, and waiting for something. */
        public function isSuspended(): bool {}
        /** cancel() was called and it has not finished yet. */
        public function isCancellationRequested(): bool {}
        /** [file, line] of the spawn() call; [null, 0] when the module started it (a request). */
        public function getSpawnFileAndLine(): array {}
        /** "file:line" of the spawn() call, or "unknown". */
        public function getSpawnLocation(): string {}
        /** [file, line] where it waits now; [null, 0] while it is not waiting. */
        public function getSuspendFileAndLine(): array {}
        /** "file:line" where it waits now, or "unknown". */
        public function getSuspendLocation(): string {}
        /**
         * $callback($coroutine) once it has finished, as a coroutine of its
         * own (at once, in the caller, if it has finished already). What it
         * throws is logged.
         */
        public function finally(\Closure $callback): void {}
        /**
         * Its backtrace (as debug_backtrace() inside it would give) while it
         * waits; null when it is not waiting.
         */
        public function getTrace(int $options = DEBUG_BACKTRACE_PROVIDE_OBJECT, int $limit = 0): ?array {}
        /** Its function's return value; null until it finished. */
        public function getResult(): mixed {}
        /** The exception it failed with, or null. */
        public function getException(): mixed {}
        /** Throws $cancellation (default: a new AsyncCancellation) at its suspension point. */
        public function cancel(?AsyncCancellation $cancellation = null): void {}
        /** Its own Context (coroutine_context() inside it). */
        public function getContext(): Context {}
        /** Where it waits: ['file' => ..., 'line' => ...]; [] while it is not waiting. */
        public function getAwaitingInfo(): array {}
        /** The scheduler has a single priority: returns the coroutine unchanged. */
        public function asHiPriority(): Coroutine {}

        /** Internal: every coroutine runs in it on a pooled fiber; throws Error if called. */
        private static function runner(): void {}
    }

    final class Timeout implements Completable
    {
        /** Stops it: it never completes, a wait it bounds goes on without it. */
        public function cancel(?AsyncCancellation $cancellation = null): void {}
        public function isCompleted(): bool {}
        public function isCancelled(): bool {}
    }

    /**
     * Structured concurrency: a Scope owns the coroutines spawned in it and
     * its child Scopes. Each request handler runs in a Scope of its own
     * (child of the thread's main Scope), made when PHP code asks for it.
     */
    final class Scope implements ScopeProvider
    {
        /** A child of $parentScope (default: the current Scope). */
        public static function inherit(?Scope $parentScope = null): Scope {}
        public function provideScope(): Scope {}
        /** A root Scope: no parent, context lookups stop here. */
        public function __construct() {}
        /** Disposal cancels what still runs (the default). */
        public function asNotSafely(): Scope {}
        /** Destroying the Scope object leaves its coroutines running. */
        public function allowZombies(): Scope {}
        /** @throws AsyncException if the scope is closed */
        public function spawn(\Closure $callable, mixed ...$params): Coroutine {}
        /** Cancels every coroutine in it and in its child Scopes, and closes it. */
        public function cancel(?AsyncCancellation $cancellationError = null): void {}
        /**
         * Waits until every coroutine in it (and its children) finished.
         * @throws OperationCanceledException when $cancellation completes first
         * @throws AsyncException from a coroutine of the scope itself
         */
        public function awaitCompletion(Awaitable $cancellation): void {}
        /** After cancel(): waits for the rest; their errors go to $errorHandler (else the first is thrown). */
        public function awaitAfterCancellation(?callable $errorHandler = null, ?Awaitable $cancellation = null): void {}
        public function isFinished(): bool {}
        public function isClosed(): bool {}
        public function isCancelled(): bool {}
        /** fn(Scope $scope, Coroutine $coroutine, \Throwable $error) for its coroutines' uncaught exceptions. */
        public function setExceptionHandler(callable $exceptionHandler): void {}
        /** The same for coroutines of its child Scopes without a handler of their own. */
        public function setChildScopeExceptionHandler(callable $exceptionHandler): void {}
        /** $callback($scope) once it is closed and finished, as a coroutine of its own. */
        public function finally(\Closure $callback): void {}
        /** Cancels what still runs and closes it. */
        public function dispose(): void {}
        /** Closes it; what runs goes on. */
        public function disposeSafely(): void {}
        /** dispose() after $timeout ms. */
        public function disposeAfterTimeout(int $timeout): void {}
        public function getChildScopes(): array {}
    }

    /**
     * Values keyed by string or object, held by a Scope (current_context())
     * or a coroutine (coroutine_context()). find()/get()/has() look here,
     * then in the Contexts of the Scopes above; the *Local() forms here only.
     */
    final class Context
    {
        public function find(string|object $key): mixed {}
        /** @throws ContextException if no level holds $key */
        public function get(string|object $key): mixed {}
        public function has(string|object $key): bool {}
        public function findLocal(string|object $key): mixed {}
        /** @throws ContextException if this Context does not hold $key */
        public function getLocal(string|object $key): mixed {}
        public function hasLocal(string|object $key): bool {}
        /** @throws ContextException if this Context holds $key already and !$replace */
        public function set(string|object $key, mixed $value, bool $replace = false): Context {}
        public function unset(string|object $key): Context {}
    }

    /** Process and system CPU counters at one moment, in nanoseconds; compare two. */
    final class CpuSnapshot
    {
        public readonly int $wallNs;
        public readonly int $processUserNs;
        public readonly int $processSystemNs;
        public readonly int $systemIdleNs;
        public readonly int $systemBusyNs;
        public readonly int $cpuCount;
        private function __construct() {}
        public static function now(): CpuSnapshot {}
    }

    /** Signals signal() can be asked for (Linux numbering). */
    enum Signal: int
    {
        case SIGHUP = 1;
        case SIGINT = 2;
        case SIGQUIT = 3;
        case SIGILL = 4;
        case SIGABRT = 6;
        case SIGFPE = 8;
        case SIGKILL = 9;
        case SIGUSR1 = 10;
        case SIGSEGV = 11;
        case SIGUSR2 = 12;
        case SIGTERM = 15;
        case SIGBREAK = 21;
        case SIGABRT2 = 22;
        case SIGWINCH = 28;
    }

    enum CircuitBreakerState
    {
        case ACTIVE;
        case INACTIVE;
        case RECOVERING;
    }

    /** ACTIVE serves, INACTIVE refuses (ServiceUnavailableException), RECOVERING lets some through. */
    interface CircuitBreaker
    {
        public function getState(): CircuitBreakerState;
        public function activate(): void;
        public function deactivate(): void;
        public function recover(): void;
    }

    /** Told of each success and failure; decides when an INACTIVE breaker may try again. */
    interface CircuitBreakerStrategy
    {
        public function reportSuccess(mixed $source): void;
        public function reportFailure(mixed $source, \Throwable $error): void;
        public function shouldRecover(): bool;
    }

    class PoolException extends AsyncException {}

    /**
     * Resources made by $factory, at most $max at once ($min made at once).
     * A resource idle for $healthcheckInterval ms or more is checked by
     * $healthcheck before it is handed out again.
     */
    final class Pool implements \Countable, CircuitBreaker
    {
        public function __construct(callable $factory, ?callable $destructor = null, ?callable $healthcheck = null,
                                    ?callable $beforeAcquire = null, ?callable $beforeRelease = null,
                                    int $min = 0, int $max = 10, int $healthcheckInterval = 0) {}
        /**
         * Waits (as a coroutine) while all are out; $timeout ms, 0: no limit.
         * @throws PoolException if it is closed
         * @throws TimeoutException when $timeout passed
         * @throws ServiceUnavailableException while the breaker is INACTIVE
         */
        public function acquire(int $timeout = 0): mixed {}
        /** A resource now, or null. */
        public function tryAcquire(): mixed {}
        public function release(mixed $resource): void {}
        /** Destroys the idle ones; acquire() throws PoolException from now on. */
        public function close(): void {}
        public function isClosed(): bool {}
        public function count(): int {}
        public function idleCount(): int {}
        public function activeCount(): int {}
        public function setCircuitBreakerStrategy(?CircuitBreakerStrategy $strategy): void {}
        public function getState(): CircuitBreakerState {}
        public function activate(): void {}
        public function deactivate(): void {}
        public function recover(): void {}
    }

    /** One change a FileSystemWatcher saw. */
    final readonly class FileSystemEvent
    {
        /** The watched path. */
        public string $path;
        /** The file changed, relative to $path (null: the path itself). */
        public ?string $filename;
        public bool $renamed;
        public bool $changed;
    }

    /**
     * Changes under $path (inotify), handed out by foreach until close().
     * $coalesce merges the events of one file while they wait; $extensions
     * (['php', 'ini']) keeps those files only; $debounceMs holds them back
     * until no change came for that long (at most $maxHoldMs, 0: no bound).
     * $recursive: Linux watches the top directory only.
     */
    final class FileSystemWatcher implements Awaitable, \IteratorAggregate
    {
        public function __construct(string $path, bool $recursive = false, bool $coalesce = true, int $debounceMs = 0,
                                    int $maxHoldMs = 0, array $extensions = []) {}
        public function close(): void {}
        public function isClosed(): bool {}
        public function getIterator(): \Iterator {}
    }

    /** Why a Channel closed (ChannelException::$reason). */
    enum ChannelCloseReason: string
    {
        case EXPLICIT = 'explicit';
        case DISPOSED = 'disposed';
        case NO_PRODUCERS = 'no producers timeout';
        case NO_CONSUMERS = 'no consumers timeout';
        case DEADLOCK = 'deadlock';
        case SCOPE_DISPOSED = 'scope disposed';
    }

    /**
     * Passes values between coroutines of one PHP thread (different
     * requests on that thread included). Capacity 0: send() waits until a
     * receiver takes the value. foreach receives until it is closed and empty.
     */
    final class Channel implements Awaitable, \IteratorAggregate, \Countable
    {
        /**
         * Values are buffered as they come, so a large capacity costs nothing
         * until it is used. $noProducerTimeout / $noConsumerTimeout (ms, 0 off):
         * receivers (senders) waiting that long with no sender (receiver)
         * coming close the channel (NO_PRODUCERS / NO_CONSUMERS).
         * $hardTimeouts is accepted for php-async's API; the timers always
         * keep the loop awake.
         * @throws \ValueError for a negative argument; \Error if called a second time
         */
        public function __construct(int $capacity = 0, int $noProducerTimeout = 0, int $noConsumerTimeout = 0,
                                    bool $hardTimeouts = false) {}
        /**
         * @throws ChannelException if closed
         * @throws OperationCanceledException if $cancellationToken completes first
         * @throws \Error if it would wait outside a coroutine
         */
        public function send(mixed $value, ?Completable $cancellationToken = null): void {}
        /** Sends without waiting: false if it is full or closed. */
        public function sendAsync(mixed $value): bool {}
        /**
         * @throws ChannelException once closed and empty
         * @throws OperationCanceledException if $cancellationToken completes first
         * @throws \Error if it would wait outside a coroutine
         */
        public function recv(?Completable $cancellationToken = null): mixed {}
        /** A Future of the next value (completed at once if one is buffered). */
        public function recvAsync(): Future {}
        /** Wakes every waiting coroutine with ChannelException. */
        public function close(): void {}
        public function isClosed(): bool {}
        public function capacity(): int {}
        /** Values buffered now. */
        public function count(): int {}
        public function isEmpty(): bool {}
        public function isFull(): bool {}
        public function getIterator(): \Iterator {}
    }

    /** The completing side of a Future. */
    final class FutureState
    {
        public function __construct() {}
        /** @throws AsyncException if it is completed already */
        public function complete(mixed $result): void {}
        /** @throws AsyncException if it is completed already */
        public function error(\Throwable $throwable): void {}
        public function isCompleted(): bool {}
        public function ignore(): void {}
        /** Ids of the coroutines waiting for it. */
        public function getAwaitingInfo(): array {}
        public function getCreatedFileAndLine(): array {}
        public function getCreatedLocation(): string {}
        public function getCompletedFileAndLine(): array {}
        public function getCompletedLocation(): string {}
    }

    /**
     * A value (or an exception) that comes later, read through await().
     * map(), catch() and finally() callbacks run as coroutines of their own
     * once it completed.
     */
    final class Future implements Completable
    {
        public static function completed(mixed $value = null): Future {}
        public static function failed(\Throwable $throwable): Future {}
        public function __construct(FutureState $state) {}
        public function isCompleted(): bool {}
        public function isCancelled(): bool {}
        /** Completes it with $cancellation (default: a new AsyncCancellation). */
        public function cancel(?AsyncCancellation $cancellation = null): void {}
        public function ignore(): Future {}
        /** A Future of $map(value); a failure passes through. */
        public function map(callable $map): Future {}
        /** A Future of $catch(error); a value passes through. */
        public function catch(callable $catch): Future {}
        /** $finally() either way; the outcome passes through unless it throws. */
        public function finally(callable $finally): Future {}
        public function await(?Completable $cancellation = null): mixed {}
        public function getAwaitingInfo(): array {}
        public function getCreatedFileAndLine(): array {}
        public function getCreatedLocation(): string {}
        public function getCompletedFileAndLine(): array {}
        public function getCompletedLocation(): string {}
    }

    /** Keyed tasks whose outcomes it keeps. */
    final class TaskGroup implements Awaitable, \Countable, \IteratorAggregate
    {
        /**
         * Tasks run in a child Scope of $scope (default: the current one), at
         * most $concurrency at a time (null: no limit); the rest wait in a
         * queue, and spawn() waits while it holds $queueLimit (null: twice
         * the concurrency; 0: no limit).
         */
        public function __construct(?int $concurrency = null, ?int $queueLimit = null, ?Scope $scope = null) {}
        /** @throws AsyncException once it is closed */
        public function spawn(callable $task, mixed ...$args): void {}
        /** @throws AsyncException once it is closed, or for a key it has */
        public function spawnWithKey(string|int $key, callable $task, mixed ...$args): void {}
        /** A Future of every result by key once all settled (errors: CompositeException, unless ignored). */
        public function all(bool $ignoreErrors = false): Future {}
        /** A Future of the first to settle, value or error. @throws AsyncException if empty */
        public function race(): Future {}
        /** A Future of the first success (all failed: CompositeException). @throws AsyncException if empty */
        public function any(): Future {}
        public function getResults(): array {}
        public function getErrors(): array {}
        /** The group never reports errors itself: kept for php-async's API. */
        public function suppressErrors(): void {}
        /** Cancels the running tasks; queued ones never start. Closes it. */
        public function cancel(?AsyncCancellation $cancellation = null): void {}
        /** No new tasks; those added run on. */
        public function close(): void {}
        /** Cancels everything in its scope. */
        public function dispose(): void {}
        /** Nothing runs or waits in the queue now. */
        public function isFinished(): bool {}
        public function isClosed(): bool {}
        public function count(): int {}
        /** @throws AsyncException unless it is closed */
        public function awaitCompletion(): void {}
        /** $callback($group) once it is closed and finished, as a coroutine of its own. */
        public function finally(\Closure $callback): void {}
        /** key => [result, null] or [null, error], in completion order, until closed and done. */
        public function getIterator(): \Iterator {}
    }

    /** Keyed tasks whose outcomes it hands out once each. */
    final class TaskSet implements Awaitable, \Countable, \IteratorAggregate
    {
        /**
         * Tasks run in a child Scope of $scope (default: the current one), at
         * most $concurrency at a time (null: no limit); the rest wait in a
         * queue, and spawn() waits while it holds $queueLimit (null: twice
         * the concurrency; 0: no limit).
         */
        public function __construct(?int $concurrency = null, ?int $queueLimit = null, ?Scope $scope = null) {}
        /** @throws AsyncException once it is closed */
        public function spawn(callable $task, mixed ...$args): void {}
        /** @throws AsyncException once it is closed, or for a key it has */
        public function spawnWithKey(string|int $key, callable $task, mixed ...$args): void {}
        /** A Future of the next task to settle (its error rethrown), taken out of the set. */
        public function joinNext(): Future {}
        /** A Future of the next success. @throws AsyncException if empty */
        public function joinAny(): Future {}
        /** A Future of every remaining result by key once all settled, taken out. */
        public function joinAll(bool $ignoreErrors = false): Future {}
        /** Cancels the running tasks; queued ones never start. Closes it. */
        public function cancel(?AsyncCancellation $cancellation = null): void {}
        /** No new tasks; those added run on. */
        public function close(): void {}
        /** Cancels everything in its scope. */
        public function dispose(): void {}
        /** Nothing runs or waits in the queue now. */
        public function isFinished(): bool {}
        public function isClosed(): bool {}
        public function count(): int {}
        /** @throws AsyncException unless it is closed */
        public function awaitCompletion(): void {}
        /** $callback($group) once it is closed and finished, as a coroutine of its own. */
        public function finally(\Closure $callback): void {}
        /** key => [result, null] or [null, error], in completion order, until closed and done. */
        public function getIterator(): \Iterator {}
    }

    /** Thrown into a coroutine at its suspension point when it is cancelled. */
    class AsyncCancellation extends \Cancellation {}
    /** What a wait ended by its cancellation token throws; the token's exception is its previous. */
    class OperationCanceledException extends AsyncCancellation {}
    class AsyncException extends \Exception {}
    class InputOutputException extends \Exception {}
    class DnsException extends \Exception {}
    class TimeoutException extends \Exception {}
    class PollException extends \Exception {}
    class DeadlockError extends \Error {}
    class ServiceUnavailableException extends AsyncException {}
    /** Several exceptions at once. */
    final class CompositeException extends \Exception
    {
        private array $exceptions = [];
        public function addException(\Throwable $exception): void {}
        /** @return \Throwable[] */
        public function getExceptions(): array {}
    }
    class ChannelException extends AsyncException
    {
        /** Why the channel closed. */
        public ChannelCloseReason $reason;
    }
    /** A mandatory Context key is missing, or set() would replace one. */
    class ContextException extends AsyncException {}

    /** Deprecated: the name AsyncCancellation had before php-async settled on it. */
    \class_alias(AsyncCancellation::class, 'Async\\CancellationError');
}

namespace {
    /**
     * The running request's headers, name => value (a repeated header: its
     * last value), as mod_php gives them. Outside a request: [].
     */
    function getallheaders(): array {}
    /** Alias of getallheaders(). */
    function apache_request_headers(): array {}

    /**
     * FrankenPHP's worker loop: `while (frankenphp_handle_request($handler)) { ... }`.
     * The first call starts serving; $handler is called without arguments
     * for each request, with the superglobals, header() and the output
     * being that request's. Returns true once a request has finished (the
     * loop body runs between requests), false when the worker stops. As in
     * FrankenPHP, the thread runs one request at a time in $handler (the
     * next waits in its queue; TrueAsyncMaxConcurrency may allow more);
     * inside its request $handler may spawn and await coroutines. Leaving the loop makes the thread boot the script afresh once its
     * requests have finished. Throws Error outside a worker script or from
     * inside a request.
     */
    function frankenphp_handle_request(callable $callback): bool {}
    /** Ends the response now (output buffers flushed); the handler goes on, its later output goes to the error log. */
    function frankenphp_finish_request(): bool {}
    /** Alias of getallheaders(). */
    function frankenphp_request_headers(): array {}
    /** The running request's response headers so far, name => value (repeated ones joined by ", "). */
    function frankenphp_response_headers(): array|false {}
    /**
     * FrankenPHP's headers_send(): with a 1xx status (103 Early Hints) the
     * headers set so far go out as an informational response and stay set
     * for the final one; any other status sends the final head now.
     * Returns the status sent, or 0 (and a warning) once the head has gone
     * out. ValueError outside 100..599; Error outside a request.
     */
    function headers_send(int $status = 200): int {}
    /** Alias of frankenphp_response_headers(). */
    function apache_response_headers(): array|false {}
}
