<?php
// php describe_stub.php STUB_FILE: prints, as JSON, the Reflection
// description (describe_api.inc) of what the stub file declares.
//
// Run by t/trueasync/60_stub_matches_runtime.t with the CLI of the PHP the
// module is built with, never inside the module (the stub redeclares its
// classes). Every namespace the stub declares gets the prefix below, so a
// CLI that happened to have such classes could still load it; the
// describer removes the prefix again.
require __DIR__ . '/describe_api.inc';

const PREFIX = 'TrueAsyncStub\\';

if ($argc !== 2) {
    fwrite(STDERR, "usage: php describe_stub.php STUB_FILE\n");
    exit(2);
}
$src = file_get_contents($argv[1]);
if ($src === false) exit(2);
$tokens = PhpToken::tokenize($src);

// The first segments of the namespaces the stub declares: fully qualified
// names into them (\Async\CancellationError) must follow the rename.
$roots = [];
$next = function (int $i) use ($tokens): int {
    for ($i++; $i < count($tokens) && $tokens[$i]->isIgnorable(); $i++);
    return $i;
};
// Classes the stub declares in the global namespace (\Cancellation) move
// into the prefix too, and so must names of them.
$global = false;
foreach ($tokens as $i => $t) {
    if ($t->is(T_NAMESPACE)) {
        $j = $next($i);
        $global = $j < count($tokens) && $tokens[$j]->text === '{';
        if ($j < count($tokens) && $tokens[$j]->is([T_STRING, T_NAME_QUALIFIED])) {
            $roots[strtolower(explode('\\', $tokens[$j]->text)[0])] = true;
        }
    } elseif ($global && $t->is([T_CLASS, T_INTERFACE])) {
        $j = $next($i);
        if ($j < count($tokens) && $tokens[$j]->is(T_STRING)) $roots[strtolower($tokens[$j]->text)] = true;
    }
}

$out = '';
$afterUse = false;       // inside a top-level `use` import (its names are fully qualified)
foreach ($tokens as $i => $t) {
    $text = $t->text;
    if ($t->is(T_OPEN_TAG)) {
        $text = '';
    } elseif ($t->is(T_NAMESPACE)) {
        $j = $next($i);
        if ($j < count($tokens) && $tokens[$j]->text === '{') {
            $text .= ' ' . rtrim(PREFIX, '\\');       // namespace { } (the global one)
        }
    } elseif ($t->is([T_STRING, T_NAME_QUALIFIED]) && $i > 0) {
        $k = $i - 1;
        while ($k > 0 && $tokens[$k]->isIgnorable()) $k--;
        if ($tokens[$k]->is(T_NAMESPACE)
            || ($afterUse && isset($roots[strtolower(explode('\\', $text)[0])]))) {
            $text = PREFIX . $text;
        }
    } elseif ($t->is(T_NAME_FULLY_QUALIFIED)) {
        if (isset($roots[strtolower(explode('\\', substr($text, 1))[0])])) {
            $text = '\\' . PREFIX . substr($text, 1);
        }
    }
    if ($t->is(T_USE)) $afterUse = true;
    elseif ($t->text === ';' || $t->text === '{' || $t->text === '(') $afterUse = false;
    $out .= $text;
}

$before = [TaApiDescriber::declaredClassLikes(), get_defined_functions()['user'], get_defined_constants()];
eval($out);

$mine = fn(string $n) => TaApiDescriber::inNamespaces($n, [rtrim(PREFIX, '\\')]);
$classes = array_values(array_filter(array_diff(TaApiDescriber::declaredClassLikes(), $before[0]), $mine));
$functions = array_map(fn($n) => (new ReflectionFunction($n))->getName(),
                       array_values(array_filter(array_diff(get_defined_functions()['user'], $before[1]), $mine)));
$constants = array_filter(array_diff_key(get_defined_constants(), $before[2]), $mine, ARRAY_FILTER_USE_KEY);

echo json_encode(['php' => PHP_VERSION,
                  'api' => (new TaApiDescriber(PREFIX))->describe($classes, $functions, $constants)],
                 JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_FORCE_OBJECT | JSON_THROW_ON_ERROR), "\n";
