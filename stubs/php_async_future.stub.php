<?php
/**
 * Async\Future and Async\FutureState (php_async_future.c registers them).
 *
 * @generate-class-entries
 */

namespace Async {
    /**
     * The completing side of a Future.
     * @strict-properties
     * @not-serializable
     */
    final class FutureState
    {
        public function __construct() {}
        /** @throws AsyncException if it is completed already ("... at file:line", where) */
        public function complete(mixed $result): void {}
        /** @throws AsyncException if it is completed already ("... at file:line", where) */
        public function error(\Throwable $throwable): void {}
        public function isCompleted(): bool {}
        public function ignore(): void {}
        /** ["FutureState(pending)"] or ["FutureState(completed)"], as php-async. */
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
     * @strict-properties
     * @not-serializable
     */
    final class Future implements Completable
    {
        public static function completed(mixed $value = null): Future {}
        public static function failed(\Throwable $throwable): Future {}
        public function __construct(FutureState $state) {}
        public function isCompleted(): bool {}
        /** Completed with an AsyncCancellation (cancel(), or FutureState::error()). */
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
        /** ["FutureState(pending)"] or ["FutureState(completed)"], as php-async. */
        public function getAwaitingInfo(): array {}
        public function getCreatedFileAndLine(): array {}
        public function getCreatedLocation(): string {}
        public function getCompletedFileAndLine(): array {}
        public function getCompletedLocation(): string {}
    }
}
