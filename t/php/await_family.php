<?php
// The rest of php-async's await family (issue 11): await_all_or_fail,
// await_first_success, await_any_of, await_any_of_or_fail.
use FrankenPHP\HttpServer;
use function Async\{spawn, delay, await_all_or_fail, await_first_success, await_any_of, await_any_of_or_fail, timeout,
                    await_any_or_fail, await_all, current_coroutine};

function after(int $ms, $value) { return spawn(function () use ($ms, $value) { delay($ms); return $value; }); }
function fail_after(int $ms, string $msg) { return spawn(function () use ($ms, $msg) { delay($ms); throw new RuntimeException($msg); }); }
function msgs(array $errors) { return array_map(fn ($e) => get_class($e) . ':' . $e->getMessage(), $errors); }

HttpServer::onRequest(function ($req, $res) {
    $o = [];
    $o['all'] = await_all_or_fail(['a' => after(30, 'A'), 'b' => after(10, 'B'), 'c' => after(20, 'C')]);
    $o['all_completion_order'] = await_all_or_fail(['a' => after(30, 'A'), 'b' => after(10, 'B')], null, false);
    try { await_all_or_fail([after(50, 1), fail_after(10, 'boom'), fail_after(20, 'later')]); $o['all_fail'] = 'none'; }
    catch (RuntimeException $e) { $o['all_fail'] = $e->getMessage(); }
    $o['all_empty'] = await_all_or_fail([]);
    $gen = (function () { yield 'x' => after(5, 1); yield 'y' => after(1, 2); })();
    $o['all_generator'] = await_all_or_fail($gen);
    [$first, $errs] = await_first_success([fail_after(5, 'e1'), after(20, 'slow'), after(10, 'fast'), fail_after(15, 'e2')]);
    $o['first'] = [$first, msgs($errs)];
    [$none, $errs] = await_first_success(['p' => fail_after(5, 'p1'), 'q' => fail_after(10, 'q1')]);
    $o['first_none'] = [$none, msgs($errs)];
    [$r, $e] = await_any_of(2, ['a' => after(40, 'A'), 'b' => fail_after(5, 'bad'), 'c' => after(10, 'C'), 'd' => after(20, 'D')]);
    $o['any_of'] = [$r, msgs($e)];
    [$r, $e] = await_any_of(5, ['a' => after(5, 'A'), 'b' => fail_after(5, 'bad')], null, true, true);
    $o['any_of_all_in'] = [$r, msgs($e)];
    $o['any_of_or_fail'] = await_any_of_or_fail(2, ['a' => after(30, 'A'), 'b' => after(5, 'B'), 'c' => after(10, 'C')]);
    try { await_any_of_or_fail(2, [after(30, 'A'), fail_after(5, 'early')]); $o['any_of_or_fail_err'] = 'none'; }
    catch (RuntimeException $e) { $o['any_of_or_fail_err'] = $e->getMessage(); }
    try { await_all_or_fail([after(500, 'never')], timeout(20)); $o['cancel'] = 'none'; }
    catch (Throwable $e) { $o['cancel'] = get_class($e); }
    try { await_any_of(-1, []); } catch (ValueError $e) { $o['negative'] = $e->getMessage(); }
    // php-async consumes a Traversable in a coroutine of its own while the caller waits
    $ids = [];
    $gen = (function () use (&$ids) { $ids[] = spl_object_id(current_coroutine()); yield after(1, 'a');
                                      $ids[] = spl_object_id(current_coroutine()); yield after(1, 'b'); })();
    await_all($gen);
    $me = spl_object_id(current_coroutine());
    $o['gen_coroutine'] = [count(array_unique($ids)), (int) in_array($me, $ids, true)];
    $t0 = hrtime(true);
    // each element is handed on once the Generator moved past it (as foreach does)
    $gen = (function () { yield after(1, 'fast'); yield after(1000, 'slow'); delay(300); yield after(1, 'late'); })();
    $o['gen_suspends'] = [await_any_or_fail($gen), (int) ((hrtime(true) - $t0) / 1e6 < 200)];
    $broken = fn () => (function () { yield after(1, 'first'); yield after(500, 'second'); delay(50); throw new LogicException('gen broke'); })();
    try { $o['gen_throws_any'] = await_any_or_fail($broken()); }
    catch (Throwable $e) { $o['gen_throws_any'] = get_class($e) . ': ' . $e->getMessage(); }
    try { await_all($broken()); $o['gen_throws_all'] = 'returned'; }
    catch (Throwable $e) { $o['gen_throws_all'] = get_class($e) . ': ' . $e->getMessage(); }
    $res->write(json_encode($o));
});
