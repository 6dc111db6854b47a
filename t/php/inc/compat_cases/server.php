<?php
echo isset($_SERVER['REQUEST_METHOD']) ? "server:" . $_SERVER['REQUEST_METHOD'] : "no server";
