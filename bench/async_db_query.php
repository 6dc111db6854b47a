<?php
// bench/async_db.sh: what a request does, the same code on every server.
// One random row of the 10,000-row table `world` by its primary key, as
// JSON. The parameter is bound by the server (PQexecParams: one round trip,
// no named statement to prepare and deallocate).
function async_db_connect(array $opts): PDO
{
    $dsn = 'pgsql:host=127.0.0.1;port=' . (int) getenv('TA_PG_PORT') . ';dbname=postgres';
    return new PDO($dsn, 'postgres', '', $opts + [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::PGSQL_ATTR_DISABLE_PREPARES => true,
    ]);
}

function async_db_row(PDO $db): string
{
    $st = $db->prepare('SELECT id, randomnumber FROM world WHERE id = ?');
    $st->execute([mt_rand(1, 10000)]);
    $row = $st->fetch(PDO::FETCH_ASSOC);
    return json_encode(['id' => $row['id'], 'randomNumber' => $row['randomnumber']]);
}
