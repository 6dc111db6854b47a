<?php
/**
 * FrankenPHP\Request and FrankenPHP\UploadedFile (php_http_request.c
 * registers them).
 *
 * @generate-class-entries
 */

namespace FrankenPHP {
    /**
     * @strict-properties
     * @not-serializable
     */
    final class Request
    {
        public function getMethod(): string {}
        /** The request target as sent: path plus "?query" if any. */
        public function getUri(): string {}
        /** The Host header (with port if the client sent one). */
        public function getHost(): string {}
        /** Case-insensitive; repeated headers joined with ", "; null if absent. */
        public function getHeader(string $name): ?string {}
        /** @return array<string, string> name as sent => value */
        public function getHeaders(): array {}
        public function getRemoteAddr(): string {}
        /** "HTTP/1.0", "HTTP/1.1" or "HTTP/2.0", as FrankenPHP gives it. */
        public function getProtocolVersion(): string {}
        /** "http" or "https". */
        public function getScheme(): string {}
        /** Parsed like $_GET (a[]=1 and a[k]=1 build arrays). */
        public function getQueryParams(): array {}
        /** Parsed like $_COOKIE. */
        public function getCookies(): array {}
        /** The raw request body, whole (already read by Apache). */
        public function getBody(): string {}
        /**
         * Form fields for application/x-www-form-urlencoded and
         * multipart/form-data bodies (any method), parsed like $_POST;
         * null for any other content type.
         */
        public function getParsedBody(): ?array {}
        /** @return array<string, UploadedFile|array> field name => file(s), like $_FILES but objects */
        public function getUploadedFiles(): array {}
    }

    /**
     * @strict-properties
     * @not-serializable
     */
    final class UploadedFile
    {
        /** The client's file name (last path component only). */
        public function getName(): string {}
        public function getType(): string {}
        public function getSize(): int {}
        public function getTmpName(): string {}
        /** One of the UPLOAD_ERR_* constants. */
        public function getError(): int {}
        /** Moves the uploaded file; false if it failed (a warning says why). */
        public function moveTo(string $path): bool {}
    }
}
