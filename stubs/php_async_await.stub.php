<?php
/**
 * await() and its family (php_async_await.c registers them). The family
 * takes an iterable of awaitables: an array's are taken at once, a
 * Traversable is consumed by a coroutine of its own while the caller
 * already waits (php-async).
 *
 * @generate-function-entries
 */

namespace Async {
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
     * Null for an empty iterable (php-async).
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
}
