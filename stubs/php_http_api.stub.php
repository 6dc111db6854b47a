<?php
/**
 * FrankenPHP\HttpServer (php_http_api.c registers it). Its objects, like
 * Request's, Response's and UploadedFile's, only come from the module:
 * `new` throws Error ("Instantiation of class X is not allowed").
 *
 * @generate-class-entries
 */

namespace FrankenPHP {
    /**
     * @strict-properties
     * @not-serializable
     */
    final class HttpServer
    {
        /**
         * Registers the request handler of this PHP thread. Call it once from
         * the worker script; when the script returns, the thread serves every
         * request by calling $callback(Request, Response) in a coroutine of its
         * own. Calling it again replaces the handler.
         */
        public static function onRequest(callable $callback): bool {}

        /** Internal: the thread's event loop runs in its frame; throws Error if called. */
        private static function loop(): void {}
        /** Internal: the body of each request coroutine; throws Error if called. */
        private static function handle(mixed $handler, object $request, object $response, bool $classic): void {}
    }
}
