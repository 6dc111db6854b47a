<?php
/**
 * Async\Pool and its circuit breaker (php_async_pool.c registers them).
 *
 * @generate-class-entries
 */

namespace Async {
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
     * @strict-properties
     * @not-serializable
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
}
