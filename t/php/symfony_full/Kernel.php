<?php
// A full-stack Symfony 5.4 application from Debian's packages (issue 18):
// FrameworkBundle with MicroKernelTrait, TwigBundle, a TokenStorage holding
// the current user (restored from the session at each request, as
// SecurityBundle's context listener does), Doctrine DBAL as a service, and
// native sessions. Its cache goes to $TA_SF_CACHE (a directory Apache's
// User can write); the database to $TA_MARIADB_PORT.
namespace TaFull;

use Doctrine\DBAL\Connection;
use Doctrine\DBAL\DriverManager;
use Symfony\Bundle\FrameworkBundle\FrameworkBundle;
use Symfony\Bundle\FrameworkBundle\Kernel\MicroKernelTrait;
use Symfony\Bundle\TwigBundle\TwigBundle;
use Symfony\Component\DependencyInjection\Loader\Configurator\ContainerConfigurator;
use Symfony\Component\HttpKernel\Kernel as BaseKernel;
use Symfony\Component\Routing\Loader\Configurator\RoutingConfigurator;
use Symfony\Component\Security\Core\Authentication\Token\Storage\TokenStorage;
use Symfony\Component\Security\Core\Authentication\Token\Storage\TokenStorageInterface;

final class Kernel extends BaseKernel
{
    use MicroKernelTrait;

    public function registerBundles(): iterable
    {
        return [new FrameworkBundle(), new TwigBundle()];
    }

    public function getProjectDir(): string
    {
        return __DIR__;
    }

    public function getCacheDir(): string
    {
        return (getenv('TA_SF_CACHE') ?: sys_get_temp_dir() . '/ta-sf-full') . '/' . $this->environment;
    }

    public function getLogDir(): string
    {
        return $this->getCacheDir() . '/log';
    }

    protected function configureContainer(ContainerConfigurator $c): void
    {
        $c->extension('framework', [
            'secret' => 'ta-issue-18',
            'http_method_override' => false,
            'session' => ['handler_id' => null, 'storage_factory_id' => 'session.storage.factory.native',
                          'cookie_samesite' => 'lax'],
            'php_errors' => ['log' => true],
        ]);
        $c->extension('twig', ['default_path' => '%kernel.project_dir%/templates', 'strict_variables' => true]);
        $s = $c->services()->defaults()->autowire()->autoconfigure();
        // the name SecurityBundle gives it: Twig's `app.user` reads it
        $s->set('security.token_storage', TokenStorage::class)->public()
            ->tag('kernel.reset', ['method' => 'reset']);
        $s->alias(TokenStorageInterface::class, 'security.token_storage');
        // one DBAL connection for the worker's lifetime, as DoctrineBundle keeps it
        $s->set(Connection::class)->public()->factory([DriverManager::class, 'getConnection'])
            ->args([['driver' => 'pdo_mysql', 'host' => '127.0.0.1', 'port' => '%env(int:TA_MARIADB_PORT)%',
                     'user' => 'root', 'dbname' => 'ta_sf']]);
        $s->set(UserFromSession::class);
        $s->set(Controllers::class)->public()->tag('controller.service_arguments');
    }

    protected function configureRoutes(RoutingConfigurator $routes): void
    {
        $routes->add('login', '/login')->controller([Controllers::class, 'login']);
        $routes->add('me', '/me')->controller([Controllers::class, 'me']);
        $routes->add('query', '/query')->controller([Controllers::class, 'query']);
        $routes->add('page', '/page')->controller([Controllers::class, 'page']);
    }
}
