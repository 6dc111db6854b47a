<?php
// bench/context.sh: the hello handler that also uses its request's Scope
// and Context (made on first use), to price them per request.
use FrankenPHP\HttpServer;
use function Async\{current_context, request_context};

HttpServer::onRequest(function ($req, $res) {
    current_context()->set('user', 42);
    $res->write(request_context()->get('user') === 42 ? 'Hello, World!' : 'wrong');
});
