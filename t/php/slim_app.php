<?php
// A Slim 3 application from Debian's php-slim, served unmodified by a
// FrankenPHP-style worker (issue 10). Slim's container keeps the request
// it built from $_SERVER, so the App is made per request.
set_include_path('/usr/share/php' . PATH_SEPARATOR . get_include_path());
require_once 'Slim/autoload.php';

function make_app(): \Slim\App
{
    $app = new \Slim\App(['settings' => ['displayErrorDetails' => true]]);
    $app->get('/hello/{name}', function ($request, $response, $args) {
        return $response->write('Hello ' . $args['name']);
    });
    $app->get('/json', function ($request, $response) {
        return $response->withJson(['query' => $request->getQueryParams(),
                                    'header' => $request->getHeaderLine('X-Test')]);
    });
    $app->post('/form', function ($request, $response) {
        return $response->write('name=' . ($request->getParsedBody()['name'] ?? ''));
    });
    $app->get('/redirect', function ($request, $response) {
        return $response->withRedirect('/hello/redirected');
    });
    $app->get('/wait', function ($request, $response) {
        usleep((int) ($request->getQueryParams()['ms'] ?? 20) * 1000);
        return $response->write('waited ' . $request->getQueryParams()['id']);
    });
    return $app;
}

while (frankenphp_handle_request(static function () { make_app()->run(); })) {
    gc_collect_cycles();
}
