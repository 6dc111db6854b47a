<?php
/**
 * Async\Context and the functions that find one (php_async_context.c
 * registers them).
 *
 * @generate-class-entries
 */

namespace Async {
    /** The Context of the current Scope (a request handler's: the request's). */
    function current_context(): Context {}

    /** The calling coroutine's own Context (outside coroutines: the main Scope's). */
    function coroutine_context(): Context {}

    /** The Context of the PHP thread's main Scope, shared by every request on the thread. */
    function root_context(): Context {}

    /** The Context of the HTTP request being served; null outside a request's Scope tree. */
    function request_context(): ?Context {}

    /**
     * Values keyed by string or object, held by a Scope (current_context())
     * or a coroutine (coroutine_context()). find()/get()/has() look here,
     * then in the Contexts of the Scopes above; the *Local() forms here only.
     * @strict-properties
     * @not-serializable
     */
    final class Context
    {
        public function find(string|object $key): mixed {}
        /** @throws ContextException if no level holds $key */
        public function get(string|object $key): mixed {}
        public function has(string|object $key): bool {}
        public function findLocal(string|object $key): mixed {}
        /** @throws ContextException if this Context does not hold $key */
        public function getLocal(string|object $key): mixed {}
        public function hasLocal(string|object $key): bool {}
        /** @throws ContextException if this Context holds $key already and !$replace */
        public function set(string|object $key, mixed $value, bool $replace = false): Context {}
        public function unset(string|object $key): Context {}
    }
}
