<?php
// Debian's packages and their own autoloaders (under /usr/share/php), then
// this application's classes.
set_include_path('/usr/share/php' . PATH_SEPARATOR . get_include_path());
require_once 'Symfony/Bundle/FrameworkBundle/autoload.php';
require_once 'Symfony/Bundle/TwigBundle/autoload.php';
require_once 'Symfony/Component/Security/Core/autoload.php';
require_once 'Doctrine/DBAL/autoload.php';
require_once __DIR__ . '/Kernel.php';
require_once __DIR__ . '/UserFromSession.php';
require_once __DIR__ . '/Controllers.php';
