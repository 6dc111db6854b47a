<?php
// php scripts/stubs-assemble.php STUBS_DIR > trueasync.stub.php
// The single file for IDEs, of the parts in STUBS_DIR (stubs/<file>.stub.php)
// in the order below, without their file doc comments (gen_stub.php's
// tags); a class's @alias becomes the class_alias() call an IDE knows.
// `make stubs` writes it to build/, `make install` installs it and
// t/trueasync/60_stub_matches_runtime.t compares it with the module.

// A class comes after what it extends or implements (PHP declares it at
// that point). Parts marked @undocumentable are left out.
const PARTS = [
    'ta_async_api', 'php_http_api', 'php_http_request', 'php_http_response',
    'php_async_api', 'php_async_coroutine', 'php_async_await', 'php_async_spawn_with',
    'php_async_scope', 'php_async_context', 'php_async_future', 'php_async_channel',
    'php_async_taskgroup', 'php_async_pool', 'php_async_runtime', 'php_async_fswatch',
    'php_http_classic',
];

const HEADER = <<<'TXT'
<?php
/**
 * Signatures of the PHP API mod_trueasync provides inside a worker script.
 * For IDEs and static analysis: the module never loads this file.
 *
 * Assembled from mod_trueasync's stubs/<file>.stub.php, one part per
 * source file that registers those classes and functions; the module's
 * arginfo is generated from the same parts (stubs/<file>_arginfo.h).
 *
 * Objects of HttpServer, Request, Response, UploadedFile, Coroutine and
 * Timeout only come from the module: `new` throws Error ("Instantiation of
 * class X is not allowed"). No module object can be cloned or serialized.
 */

TXT;

/** @return array<string, string> class => alias, from the @alias tags of a part */
function aliases(string $code): array
{
    $out = [];
    $ns = '';
    $alias = null;
    $tokens = PhpToken::tokenize($code);
    foreach ($tokens as $i => $t) {
        if ($t->is(T_NAMESPACE)) {
            $ns = '';
            for ($j = $i + 1; !$tokens[$j]->is(['{', ';']); $j++) {
                if (!$tokens[$j]->isIgnorable()) $ns .= $tokens[$j]->text;
            }
        } elseif ($t->is(T_DOC_COMMENT)) {
            $alias = preg_match('/^\s*\*\s*@alias\s+(\S+)/m', $t->text, $m) ? $m[1] : null;
        } elseif ($t->is([T_CLASS, T_INTERFACE, T_ENUM]) && $alias !== null) {
            for ($j = $i + 1; !$tokens[$j]->is(T_STRING); $j++);
            $out[($ns === '' ? '' : "$ns\\") . $tokens[$j]->text] = $alias;
            $alias = null;
        } elseif ($t->is([T_FUNCTION, '{', ';'])) {
            $alias = null;          // a function's @alias is gen_stub.php's alone
        }
    }
    return $out;
}

if ($argc !== 2 || !is_dir($argv[1])) {
    fwrite(STDERR, "usage: php stubs-assemble.php STUBS_DIR\n");
    exit(2);
}
$dir = $argv[1];
foreach (glob("$dir/*.stub.php") as $file) {
    $code = file_get_contents($file);
    $part = basename($file, '.stub.php');
    if (!in_array($part, PARTS, true) && !preg_match('/^ \* @undocumentable$/m', $code)) {
        fwrite(STDERR, "$file: neither in PARTS (scripts/stubs-assemble.php) nor @undocumentable\n");
        exit(1);
    }
}

$out = HEADER;
$aliases = [];
foreach (PARTS as $part) {
    $code = file_get_contents("$dir/$part.stub.php");
    if ($code === false) exit(1);
    $aliases += aliases($code);
    // "<?php" and the file's doc comment go
    $out .= "\n" . trim(preg_replace('~^<\?php\s*/\*\*.*?\*/~s', '', $code)) . "\n";
}
if ($aliases) {
    $out .= "\nnamespace {\n";
    foreach ($aliases as $class => $alias) {
        $out .= "    \\class_alias(\\$class::class, '" . addslashes($alias) . "');\n";
    }
    $out .= "}\n";
}
echo $out;
