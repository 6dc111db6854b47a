<?php
use FrankenPHP\HttpServer;
use FrankenPHP\Request;
use FrankenPHP\Response;

set_time_limit(0);

HttpServer::onRequest(function (Request $request, Response $response) {
    $uri = $request->getUri();

    if ($uri === '/') {
        $response->setStatus(200);
        $response->setHeader('Content-Type', 'application/json');
        $response->write(json_encode([
            'message' => 'Hello from TrueAsync!',
            'timestamp' => date('Y-m-d H:i:s'),
        ]));
        $response->end();
        return;
    }

    $response->setStatus(404);
    $response->setHeader('Content-Type', 'application/json');
    $response->write(json_encode(['error' => 'Not Found', 'uri' => $uri]));
    $response->end();
});
