<?php
/**
 * Async\Channel (php_async_channel.c registers it).
 *
 * @generate-class-entries
 */

namespace Async {
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
     * @strict-properties
     * @not-serializable
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
}
