/* Start-up of the Async\ API: each php_async_*.c file registers its own
 * classes and functions, through what PHP's gen_stub.php made of its
 * stubs/<file>.stub.php (register_class_*(), the method and function
 * tables). php_module.c calls them from MINIT in this order, after the
 * exception classes (ta_async_exceptions_register): an interface comes
 * before the classes that implement it. */
#ifndef TA_PHP_ASYNC_REGISTER_H
#define TA_PHP_ASYNC_REGISTER_H

void ta_async_api_register(void);       /* Awaitable, Completable, spawn(), delay(), ... */
void ta_coroutine_register(void);       /* Coroutine, Timeout */
void ta_finally_register(void);         /* finally() callbacks: the scheduler's end hook */
void ta_await_register(void);           /* await() and its family */
void ta_scope_provider_register(void);  /* ScopeProvider, SpawnStrategy, spawn_with() */
void ta_scope_register(void);           /* Scope */
void ta_context_register(void);         /* Context, current_context() and the others */
void ta_future_register(void);          /* FutureState, Future */
void ta_taskgroup_register(void);       /* TaskGroup, TaskSet */
void ta_channel_register(void);         /* ChannelCloseReason, Channel */
void ta_pool_register(void);            /* CircuitBreaker*, PoolException, Pool */
void ta_runtime_register(void);         /* CpuSnapshot, Signal, the runtime functions */
void ta_fswatch_register(void);         /* FileSystemEvent, FileSystemWatcher */

#endif
