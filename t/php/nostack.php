<?php
// Served under fiber.stack_size 65536G: no coroutine can get its stack.
FrankenPHP\HttpServer::onRequest(function ($req, $res) { $res->write("unreachable\n"); });
