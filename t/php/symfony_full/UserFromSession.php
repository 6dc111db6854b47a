<?php
// Puts the session's user into the TokenStorage when a request starts,
// as SecurityBundle's context listener does; the TokenStorage lives as
// long as the worker and is reset between requests.
namespace TaFull;

use Symfony\Component\EventDispatcher\EventSubscriberInterface;
use Symfony\Component\HttpKernel\Event\RequestEvent;
use Symfony\Component\HttpKernel\KernelEvents;
use Symfony\Component\Security\Core\Authentication\Token\Storage\TokenStorageInterface;
use Symfony\Component\Security\Core\Authentication\Token\UsernamePasswordToken;
use Symfony\Component\Security\Core\User\InMemoryUser;

final class UserFromSession implements EventSubscriberInterface
{
    public function __construct(private TokenStorageInterface $tokens)
    {
    }

    public static function getSubscribedEvents(): array
    {
        return [KernelEvents::REQUEST => ['onRequest', 8]];
    }

    public function onRequest(RequestEvent $event): void
    {
        $request = $event->getRequest();
        if (!$event->isMainRequest() || !$request->hasPreviousSession()) return;
        $name = $request->getSession()->get('user');
        if ($name !== null)
            $this->tokens->setToken(new UsernamePasswordToken(new InMemoryUser($name, null), 'main', ['ROLE_USER']));
    }
}
