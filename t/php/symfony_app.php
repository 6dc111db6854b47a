<?php
// A Symfony 5.4 application from Debian's packages, served unmodified by a
// FrankenPHP-style worker (issue 10): Request::createFromGlobals(),
// HttpKernel, $response->send(), $kernel->terminate(). The routes are
// built once; the kernel (with its RequestStack, which must not be shared
// by requests that run at the same time) per request.
set_include_path('/usr/share/php' . PATH_SEPARATOR . get_include_path());
require_once 'Symfony/Component/HttpFoundation/autoload.php';
require_once 'Symfony/Component/HttpKernel/autoload.php';
require_once 'Symfony/Component/Routing/autoload.php';
require_once 'Symfony/Component/EventDispatcher/autoload.php';

use Symfony\Component\EventDispatcher\EventDispatcher;
use Symfony\Component\HttpFoundation\Cookie;
use Symfony\Component\HttpFoundation\JsonResponse;
use Symfony\Component\HttpFoundation\RedirectResponse;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\RequestStack;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpFoundation\Session\Session;
use Symfony\Component\HttpFoundation\Session\Storage\NativeSessionStorage;
use Symfony\Component\HttpFoundation\StreamedResponse;
use Symfony\Component\HttpKernel\Controller\ArgumentResolver;
use Symfony\Component\HttpKernel\Controller\ControllerResolver;
use Symfony\Component\HttpKernel\EventListener\RouterListener;
use Symfony\Component\HttpKernel\Event\ExceptionEvent;
use Symfony\Component\HttpKernel\Exception\HttpExceptionInterface;
use Symfony\Component\HttpKernel\HttpKernel;
use Symfony\Component\HttpKernel\KernelEvents;
use Symfony\Component\Routing\Matcher\UrlMatcher;
use Symfony\Component\Routing\RequestContext;
use Symfony\Component\Routing\Route;
use Symfony\Component\Routing\RouteCollection;

$routes = new RouteCollection();
$routes->add('hello', new Route('/hello/{name}', ['_controller' => function (Request $request, string $name) {
    return new Response("Hello $name from " . $request->getPathInfo());
}]));
$routes->add('json', new Route('/json', ['_controller' => function (Request $request) {
    return new JsonResponse(['query' => $request->query->all(), 'method' => $request->getMethod(),
                             'header' => $request->headers->get('X-Test')]);
}]));
$routes->add('form', new Route('/form', ['_controller' => function (Request $request) {
    return new Response('name=' . $request->request->get('name') . ' tags=' . implode(',', $request->request->all('tags')));
}], [], [], '', [], ['POST']));
$routes->add('upload', new Route('/upload', ['_controller' => function (Request $request) {
    $f = $request->files->get('doc');
    $to = sys_get_temp_dir() . '/ta-sf-' . bin2hex(random_bytes(4));
    $moved = $f->move(dirname($to), basename($to));
    $body = file_get_contents($moved->getPathname());
    unlink($moved->getPathname());
    return new JsonResponse(['name' => $f->getClientOriginalName(), 'size' => strlen($body), 'body' => $body]);
}], [], [], '', [], ['POST']));
$routes->add('redirect', new Route('/redirect', ['_controller' => fn () => new RedirectResponse('/hello/redirected')]));
$routes->add('cookie', new Route('/cookie', ['_controller' => function (Request $request) {
    $r = new Response('had=' . $request->cookies->get('flavor', 'none'));
    $r->headers->setCookie(Cookie::create('flavor', 'chocolate'));
    return $r;
}]));
$routes->add('session', new Route('/session', ['_controller' => function (Request $request) {
    $s = $request->getSession();
    $s->set('n', $s->get('n', 0) + 1);
    if ($ms = $request->query->getInt('ms')) usleep($ms * 1000);
    return new Response('n=' . $s->get('n'));
}]));
$routes->add('stream', new Route('/stream', ['_controller' => fn () => new StreamedResponse(function () {
    echo "part1;";
    flush();
    usleep(50000);
    echo "part2";
})]));
$routes->add('wait', new Route('/wait', ['_controller' => function (Request $request) {
    usleep($request->query->getInt('ms', 20) * 1000);
    return new Response('waited');
}]));

$handler = static function () use ($routes) {
    $stack = new RequestStack();
    $dispatcher = new EventDispatcher();
    $dispatcher->addSubscriber(new RouterListener(new UrlMatcher($routes, new RequestContext()), $stack));
    // what a full-stack app's error listener does for HTTP exceptions (404, 405)
    $dispatcher->addListener(KernelEvents::EXCEPTION, function (ExceptionEvent $event) {
        $e = $event->getThrowable();
        if ($e instanceof HttpExceptionInterface)
            $event->setResponse(new Response($e->getMessage(), $e->getStatusCode(), $e->getHeaders()));
    });
    $kernel = new HttpKernel($dispatcher, new ControllerResolver(), $stack, new ArgumentResolver());
    $request = Request::createFromGlobals();
    $request->setSession(new Session(new NativeSessionStorage()));
    $response = $kernel->handle($request);
    $response->send();
    $kernel->terminate($request, $response);
};
while (frankenphp_handle_request($handler)) {
    gc_collect_cycles();
}
