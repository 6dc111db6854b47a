<?php
/**
 * What the PDO pool (php_pdo_pool.c) adds to classes of other extensions.
 * Arginfo only: php_pdo_pool.c writes the tables itself, since it adds
 * getPool() to PDO and gives each pool callbacks whose names no PHP code
 * can call. Its undocumentable tag keeps it out of trueasync.stub.php.
 *
 * @undocumentable
 */

namespace {
    class PDO
    {
        /** The Async\Pool behind a pooled PDO object; null for a plain one. */
        public function getPool(): ?\Async\Pool {}
    }
}

namespace Async {
    /**
     * The callbacks a pooled PDO object gives its Async\Pool: methods in the
     * Pool's scope ($this: the Pool), kept out of its function table.
     */
    final class Pool
    {
        /** A new connection with the pooled object's constructor arguments. */
        public function pdoFactory(): object {}
        /** Whether an idle connection still lives (the server is asked). */
        public function pdoHealthcheck(\PDO $connection): bool {}
        /** Whether a connection may go back (after an error, the server is asked whether it lives). */
        public function pdoBeforeRelease(\PDO $connection): bool {}
    }
}
