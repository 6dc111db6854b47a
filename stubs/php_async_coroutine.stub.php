<?php
/**
 * Async\Coroutine and Async\Timeout: objects only spawn() and timeout()
 * make (php_async_coroutine.c registers them).
 *
 * @generate-class-entries
 */

namespace Async {
    /**
     * @strict-properties
     * @not-serializable
     */
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
        /** Internal: the coroutine the finally() callbacks of a Scope or a TaskGroup run in, one after the other. */
        private static function finalizer(array $callbacks, object $subject, ?Scope $scope): void {}
        /** Internal: the body of Async\iterate()'s worker coroutines; throws Error if called. */
        private static function iterationWorker(): void {}
    }

    /**
     * @strict-properties
     * @not-serializable
     */
    final class Timeout implements Completable
    {
        /** Stops it: it never completes, a wait it bounds goes on without it. */
        public function cancel(?AsyncCancellation $cancellation = null): void {}
        public function isCompleted(): bool {}
        public function isCancelled(): bool {}
    }
}
