<?php
/**
 * Async\FileSystemWatcher (php_async_fswatch.c registers it).
 *
 * @generate-class-entries
 */

namespace Async {
    /**
     * One change a FileSystemWatcher saw. (Each property says readonly as
     * well: PHP 8.2's gen_stub.php does not pass a readonly class on to its
     * properties.)
     * @strict-properties
     * @not-serializable
     */
    final readonly class FileSystemEvent
    {
        /** The watched path. */
        public readonly string $path;
        /** The file changed, relative to $path (null: the path itself). */
        public readonly ?string $filename;
        public readonly bool $renamed;
        public readonly bool $changed;
    }

    /**
     * Changes under $path (inotify), handed out by foreach until close().
     * $coalesce merges the events of one file while they wait; $extensions
     * (['php', 'ini']) keeps those files only; $debounceMs holds them back
     * until no change came for that long (at most $maxHoldMs, 0: no bound).
     * $recursive: Linux watches the top directory only.
     * @strict-properties
     * @not-serializable
     */
    final class FileSystemWatcher implements Awaitable, \IteratorAggregate
    {
        public function __construct(string $path, bool $recursive = false, bool $coalesce = true, int $debounceMs = 0,
                                    int $maxHoldMs = 0, array $extensions = []) {}
        public function close(): void {}
        public function isClosed(): bool {}
        public function getIterator(): \Iterator {}
    }
}
