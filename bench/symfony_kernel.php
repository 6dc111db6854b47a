<?php
// bench/frameworks.sh: one Symfony 5.4 application (Debian's packages),
// the same code under mod_trueasync (bench/symfony_worker.php), mod_php and
// php-fpm (bench/symfony_front.php). /hello/{name} only computes;
// /upstream?up=PORT waits on bench/upstream.c (20 ms) through
// file_get_contents(), as an app waits on a backend.
set_include_path('/usr/share/php' . PATH_SEPARATOR . get_include_path());
require_once 'Symfony/Component/HttpFoundation/autoload.php';
require_once 'Symfony/Component/HttpKernel/autoload.php';
require_once 'Symfony/Component/Routing/autoload.php';
require_once 'Symfony/Component/EventDispatcher/autoload.php';

use Symfony\Component\EventDispatcher\EventDispatcher;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\RequestStack;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\HttpKernel\Controller\ArgumentResolver;
use Symfony\Component\HttpKernel\Controller\ControllerResolver;
use Symfony\Component\HttpKernel\EventListener\RouterListener;
use Symfony\Component\HttpKernel\HttpKernel;
use Symfony\Component\Routing\Matcher\UrlMatcher;
use Symfony\Component\Routing\RequestContext;
use Symfony\Component\Routing\Route;
use Symfony\Component\Routing\RouteCollection;

function bench_routes(): RouteCollection
{
    $routes = new RouteCollection();
    $routes->add('hello', new Route('/hello/{name}', ['_controller' => function (Request $request, string $name) {
        return new Response("Hello $name");
    }]));
    $routes->add('upstream', new Route('/upstream', ['_controller' => function (Request $request) {
        return new Response(file_get_contents('http://127.0.0.1:' . $request->query->getInt('up') . '/'));
    }]));
    return $routes;
}

function bench_handle(RouteCollection $routes): void
{
    $stack = new RequestStack();
    $dispatcher = new EventDispatcher();
    $dispatcher->addSubscriber(new RouterListener(new UrlMatcher($routes, new RequestContext()), $stack));
    $kernel = new HttpKernel($dispatcher, new ControllerResolver(), $stack, new ArgumentResolver());
    $request = Request::createFromGlobals();
    $response = $kernel->handle($request);
    $response->send();
    $kernel->terminate($request, $response);
}
