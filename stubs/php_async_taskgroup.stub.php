<?php
/**
 * Async\TaskGroup and Async\TaskSet (php_async_taskgroup.c registers
 * them).
 *
 * @generate-class-entries
 */

namespace Async {
    /**
     * Keyed tasks whose outcomes it keeps.
     * @strict-properties
     * @not-serializable
     */
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
        /** Cancels what runs in its scope now; the group stays open, queued tasks still start. */
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

    /**
     * Keyed tasks whose outcomes it hands out once each.
     * @strict-properties
     * @not-serializable
     */
    final class TaskSet implements Awaitable, \Countable, \IteratorAggregate
    {
        /**
         * Tasks run in a child Scope of $scope (default: the current one), at
         * most $concurrency at a time (null: no limit); the rest wait in a
         * queue, and spawn() waits while it holds $queueLimit (null: twice
         * the concurrency; 0: no limit).
         * @implementation-alias Async\TaskGroup::__construct
         */
        public function __construct(?int $concurrency = null, ?int $queueLimit = null, ?Scope $scope = null) {}
        /**
         * @throws AsyncException once it is closed
         * @implementation-alias Async\TaskGroup::spawn
         */
        public function spawn(callable $task, mixed ...$args): void {}
        /**
         * @throws AsyncException once it is closed, or for a key it has
         * @implementation-alias Async\TaskGroup::spawnWithKey
         */
        public function spawnWithKey(string|int $key, callable $task, mixed ...$args): void {}
        /** A Future of the next task to settle (its error rethrown), taken out of the set. */
        public function joinNext(): Future {}
        /** A Future of the next success. @throws AsyncException if empty */
        public function joinAny(): Future {}
        /**
         * A Future of every remaining result by key once all settled, taken out.
         * @implementation-alias Async\TaskGroup::all
         */
        public function joinAll(bool $ignoreErrors = false): Future {}
        /**
         * Cancels the running tasks; queued ones never start. Closes it.
         * @implementation-alias Async\TaskGroup::cancel
         */
        public function cancel(?AsyncCancellation $cancellation = null): void {}
        /**
         * No new tasks; those added run on.
         * @implementation-alias Async\TaskGroup::close
         */
        public function close(): void {}
        /**
         * Cancels what runs in its scope now; the set stays open, queued tasks still start.
         * @implementation-alias Async\TaskGroup::dispose
         */
        public function dispose(): void {}
        /**
         * Nothing runs or waits in the queue now.
         * @implementation-alias Async\TaskGroup::isFinished
         */
        public function isFinished(): bool {}
        /** @implementation-alias Async\TaskGroup::isClosed */
        public function isClosed(): bool {}
        /** @implementation-alias Async\TaskGroup::count */
        public function count(): int {}
        /**
         * @throws AsyncException unless it is closed
         * @implementation-alias Async\TaskGroup::awaitCompletion
         */
        public function awaitCompletion(): void {}
        /**
         * $callback($group) once it is closed and finished, as a coroutine of its own.
         * @implementation-alias Async\TaskGroup::finally
         */
        public function finally(\Closure $callback): void {}
        /**
         * key => [result, null] or [null, error], in completion order, until closed and done.
         * @implementation-alias Async\TaskGroup::getIterator
         */
        public function getIterator(): \Iterator {}
    }
}
