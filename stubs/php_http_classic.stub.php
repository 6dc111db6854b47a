<?php
/**
 * FrankenPHP's and mod_php's functions for plain PHP code
 * (php_http_classic.c registers them).
 *
 * @generate-function-entries
 */

namespace {
    /**
     * The running request's headers, name => value (a repeated header: its
     * last value), as mod_php gives them. Outside a request: [].
     */
    function getallheaders(): array {}

    /**
     * Alias of getallheaders().
     * @alias getallheaders
     */
    function apache_request_headers(): array {}

    /**
     * FrankenPHP's worker loop: `while (frankenphp_handle_request($handler)) { ... }`.
     * The first call starts serving; $handler is called without arguments
     * for each request, with the superglobals, header() and the output
     * being that request's. Returns true once a request has finished (the
     * loop body runs between requests), false when the worker stops. As in
     * FrankenPHP, the thread runs one request at a time in $handler (the
     * next waits in its queue; TrueAsyncMaxConcurrency may allow more);
     * inside its request $handler may spawn and await coroutines. Leaving
     * the loop makes the thread boot the script afresh once its requests
     * have finished. Throws Error outside a worker script or from
     * inside a request.
     */
    function frankenphp_handle_request(callable $callback): bool {}

    /** Ends the response now (output buffers flushed); the handler goes on, its later output goes to the error log. */
    function frankenphp_finish_request(): bool {}

    /**
     * Alias of getallheaders().
     * @alias getallheaders
     */
    function frankenphp_request_headers(): array {}

    /** The running request's response headers so far, name => value (repeated ones joined by ", "). */
    function frankenphp_response_headers(): array|false {}

    /**
     * FrankenPHP's headers_send(): with a 1xx status (103 Early Hints) the
     * headers set so far go out as an informational response and stay set
     * for the final one; any other status sends the final head now.
     * Returns the status sent, or 0 (and a warning) once the head has gone
     * out. ValueError outside 100..599; Error outside a request.
     */
    function headers_send(int $status = 200): int {}

    /**
     * Alias of frankenphp_response_headers().
     * @alias frankenphp_response_headers
     */
    function apache_response_headers(): array|false {}
}
