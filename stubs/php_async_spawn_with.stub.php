<?php
/**
 * spawn_with() and the interfaces it takes (php_async_spawn_with.c
 * registers them).
 *
 * @generate-class-entries
 */

namespace Async {
    /** Something that names the Scope spawn_with() spawns into (null: the current one). */
    interface ScopeProvider
    {
        public function provideScope(): ?Scope;
    }

    /** A ScopeProvider told about each coroutine spawn_with() spawns through it. */
    interface SpawnStrategy extends ScopeProvider
    {
        public function beforeCoroutineEnqueue(Coroutine $coroutine, Scope $scope): array;
        public function afterCoroutineEnqueue(Coroutine $coroutine, Scope $scope): void;
    }

    /**
     * Starts $task(...$args) in the Scope $provider names (a Scope is its
     * own provider); a SpawnStrategy hears of the coroutine before and after.
     * @throws AsyncException if that scope is closed
     */
    function spawn_with(ScopeProvider $provider, callable $task, mixed ...$args): Coroutine {}
}
