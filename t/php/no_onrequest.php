<?php
// A worker script that never calls HttpServer::onRequest(): the module must
// log an error and answer its requests with 503.
$ta_unused = 'this worker registers no request handler';
