<?php
/**
 * Async\Scope (php_async_scope.c registers it).
 *
 * @generate-class-entries
 */

namespace Async {
    /**
     * Structured concurrency: a Scope owns the coroutines spawned in it and
     * its child Scopes. Each request handler runs in a Scope of its own
     * (child of the thread's main Scope), made when PHP code asks for it.
     * @strict-properties
     * @not-serializable
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
}
