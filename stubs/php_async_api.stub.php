<?php
/**
 * The Async\ API's interfaces and the coroutine functions of
 * php_async_api.c (which registers them).
 *
 * @generate-class-entries
 */

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

    /**
     * Starts $task(...$args) in a new coroutine on this PHP thread. One
     * spawned while a request is handled belongs to that request (its output
     * goes to that response) and is cancelled when the worker stops.
     * @throws \TypeError if $task is not callable
     */
    function spawn(callable $task, mixed ...$args): Coroutine {}

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
}
