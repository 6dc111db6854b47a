<?php
/**
 * What the runtime tells of the thread, the process and the system,
 * signals, iterate() and graceful_shutdown() (php_async_runtime.c
 * registers them).
 *
 * @generate-class-entries
 */

namespace Async {
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
     * $callback($value, $key) for each element, called by worker coroutines
     * of a Scope of its own that pull the elements (php-async's model): one
     * more starts each time one first yields, up to $concurrency (0: no
     * limit). false from a callback stops it, an exception stops it and is
     * rethrown. What the callbacks spawned is cancelled at the end
     * ($cancelPending) or awaited.
     */
    function iterate(iterable $iterable, callable $callback, int $concurrency = 0, bool $cancelPending = true): void {}

    /**
     * The PHP thread stops taking requests, lets those in flight finish,
     * cancels what else runs and boots its worker script afresh (the other
     * threads serve meanwhile).
     */
    function graceful_shutdown(?AsyncCancellation $cancellationError = null): void {}

    /**
     * Process and system CPU counters at one moment, in nanoseconds; compare two.
     * @strict-properties
     * @not-serializable
     */
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
}
