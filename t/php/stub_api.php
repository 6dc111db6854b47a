<?php
// Worker of t/trueasync/60_stub_matches_runtime.t: describes, through
// Reflection, everything the module registers (t/php/inc/describe_api.inc),
// to be compared with the description of stubs/trueasync.stub.php.
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

require __DIR__ . '/inc/describe_api.inc';

function ta_runtime_api(): array
{
    // The module's own namespaces, plus whatever the extension says is its
    // own (a class or function it might add elsewhere, global ones included).
    $namespaces = ['FrankenPHP', 'Async'];
    $ext = new ReflectionExtension('trueasync');

    $classes = $ext->getClassNames();
    foreach (TaApiDescriber::declaredClassLikes() as $n) {
        if ((new ReflectionClass($n))->isInternal() && TaApiDescriber::inNamespaces($n, $namespaces)) {
            $classes[] = $n;
        }
    }
    $functions = array_keys($ext->getFunctions());
    foreach (get_defined_functions()['internal'] as $n) {
        if (TaApiDescriber::inNamespaces($n, $namespaces)) $functions[] = $n;
    }
    $constants = $ext->getConstants();
    foreach (get_defined_constants() as $n => $v) {
        if (TaApiDescriber::inNamespaces($n, $namespaces)) $constants[$n] = $v;
    }
    // ReflectionExtension and get_declared_classes() differ only in case.
    $classes = array_map(fn($n) => (new ReflectionClass($n))->getName(), $classes);
    $functions = array_map(fn($n) => (new ReflectionFunction($n))->getName(), $functions);

    return (new TaApiDescriber())->describe($classes, $functions, $constants);
}

HttpServer::onRequest(function (Request $req, Response $res) {
    $res->setHeader('Content-Type', 'application/json');
    $res->write(json_encode(['php' => PHP_VERSION, 'api' => ta_runtime_api()],
                            JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_FORCE_OBJECT | JSON_THROW_ON_ERROR));
    $res->end();
});
