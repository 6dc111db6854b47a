<?php
/**
 * FrankenPHP\Response (php_http_response.c registers it).
 *
 * @generate-class-entries
 */

namespace FrankenPHP {
    /**
     * @strict-properties
     * @not-serializable
     */
    final class Response
    {
        /** @throws \ValueError outside 100..599; \Error once headers were sent */
        public function setStatus(int $code): void {}
        public function getStatus(): int {}
        /**
         * Replaces every value of the header.
         * @throws \ValueError for an invalid name or a value with CR, LF or NUL
         * @throws \Error once headers were sent
         */
        public function setHeader(string $name, string $value): void {}
        /** Adds one more value (e.g. another Set-Cookie). Same errors as setHeader(). */
        public function addHeader(string $name, string $value): void {}
        public function removeHeader(string $name): void {}
        /** Values joined with ", "; null if absent. */
        public function getHeader(string $name): ?string {}
        /** @return array<string, list<string>> */
        public function getHeaders(): array {}
        /** True once write(), end() or echo sent the status line and headers. */
        public function isHeadersSent(): bool {}
        /**
         * Sets Location and the status, then ends the response.
         * @throws \ValueError unless 300 <= $code <= 399, or for CR/LF/NUL in $url
         */
        public function redirect(string $url, int $code = 302): void {}
        /**
         * Streams $data to the client now (one chunk through Apache's output
         * filters). If the previous chunk has not been taken by Apache yet, the
         * calling coroutine (not the thread) waits for it first.
         * @throws \Error after end()
         * @throws \Async\CancellationError if the client went away while waiting
         */
        public function write(string $data): void {}
        /** Finishes the response; a second call does nothing. */
        public function end(): void {}
        /**
         * Hands the file to Apache as the whole body (sendfile, Range,
         * ETag/Last-Modified and conditional requests, the type from
         * mod_mime unless $contentType or a Content-Type header is set)
         * and ends the response; buffered output is discarded. Only files
         * whose real path lies under a TrueAsyncSendFilePath directory:
         * RuntimeException otherwise, or when there is no such file.
         * Error once the headers were sent.
         */
        public function sendFile(string $path, ?string $contentType = null): void {}
    }
}
