<?php
/**
 * The exception classes of the Async\ API (ta_async_api.c registers them).
 *
 * @generate-class-entries
 */

namespace {
    /**
     * The root of cancellations. TrueAsync's PHP has it in its core; for
     * PHP 8.2 the module declares it (as an Error, so catch (Exception) does
     * not swallow a cancellation).
     */
    class Cancellation extends \Error {}
}

namespace Async {
    /**
     * Thrown into a coroutine at its suspension point when it is cancelled.
     * Async\CancellationError, the name it had before php-async settled on
     * this one, is kept as a deprecated alias.
     * @alias Async\CancellationError
     */
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
}
