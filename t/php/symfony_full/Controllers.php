<?php
namespace TaFull;

use Doctrine\DBAL\Connection;
use Symfony\Component\HttpFoundation\Request;
use Symfony\Component\HttpFoundation\Response;
use Symfony\Component\Security\Core\Authentication\Token\Storage\TokenStorageInterface;
use Twig\Environment;

final class Controllers
{
    public function __construct(private Environment $twig, private Connection $db, private TokenStorageInterface $tokens)
    {
    }

    // /login?user=NAME: the session remembers who this client is
    public function login(Request $request): Response
    {
        $session = $request->getSession();
        $session->migrate();
        $session->set('user', (string) $request->query->get('user'));
        $session->set('n', 0);
        return new Response('logged in');
    }

    // /me?tag=T&ms=M: the current user from the TokenStorage, a row written
    // and read back in this request's transaction while the query waits M
    // ms, the session's counter, all rendered through Twig
    public function me(Request $request): Response
    {
        $session = $request->getSession();
        $session->set('n', $session->get('n', 0) + 1);
        $token = $this->tokens->getToken();
        $who = $token ? $token->getUserIdentifier() : 'anonymous';
        $this->db->beginTransaction();
        $this->db->insert('visits', ['user' => $who, 'tag' => (string) $request->query->get('tag')]);
        $id = (int) $this->db->lastInsertId();
        $this->db->executeQuery('SELECT SLEEP(?)', [$request->query->getInt('ms') / 1000]);
        $row = $this->db->fetchAssociative('SELECT user, tag FROM visits WHERE id = ?', [$id]);
        $this->db->commit();
        return new Response($this->twig->render('me.html.twig', ['row' => $row]));
    }

    // /page: a template only (the benchmark's Twig route)
    public function page(Request $request): Response
    {
        return new Response($this->twig->render('page.html.twig', ['items' => range(1, 20)]));
    }

    // /query: one 5 ms query (the benchmark's database route)
    public function query(): Response
    {
        return new Response('slept ' . $this->db->fetchOne('SELECT SLEEP(0.005)'));
    }
}
