<?php
// pgsql and pdo_pgsql cases of t/trueasync/83_pgsql.t.

function pg_conninfo(int $port): string { return "host=127.0.0.1 port=$port user=postgres dbname=postgres"; }
function pg_dsn(int $port): string { return "pgsql:host=127.0.0.1;port=$port;dbname=postgres"; }

// Every kind of call once; its answers, warnings and errors included. The
// worker (t/php/pgsql.php) runs it in a request; Debian's php8.2 CLI (with
// php8.2-pgsql) runs this file (`php8.2 pg_ops.php PORT` prints JSON): both
// must give the same.
function pg_ops(int $port): array
{
    $out = [];
    $warn = [];
    set_error_handler(function ($no, $msg) use (&$warn) { $warn[] = $msg; return true; });
    try {
        $c = pg_connect(pg_conninfo($port), PGSQL_CONNECT_FORCE_NEW);
        pg_query($c, 'CREATE TEMP TABLE t (id int PRIMARY KEY, name text)');
        $out['prepare'] = pg_result_status(pg_prepare($c, 'ins', 'INSERT INTO t VALUES ($1, $2)'));
        foreach ([1 => 'a', 2 => 'b', 3 => 'c'] as $k => $v) $out['execute'][] = pg_affected_rows(pg_execute($c, 'ins', [$k, $v]));
        $out['copy_from'] = pg_copy_from($c, 't', ["4\td\n", "5\te\n"]);
        $out['copy_to'] = pg_copy_to($c, 't');
        $r = pg_query_params($c, 'SELECT id, name FROM t WHERE id > $1 ORDER BY id', [1]);
        $out['num_rows'] = pg_num_rows($r);
        $out['row'] = pg_fetch_row($r);
        $out['assoc'] = pg_fetch_assoc($r);
        $out['object'] = (array) pg_fetch_object($r, 2);
        $out['result'] = pg_fetch_result($r, 3, 'name');
        $out['all'] = pg_fetch_all($r);
        $out['bad'] = pg_query($c, 'SELECT * FROM no_such_table');
        $out['last_error'] = pg_last_error($c);
        $out['after_error'] = pg_fetch_result(pg_query($c, 'SELECT 42'), 0, 0);
        pg_send_query($c, 'SELECT 1; SELECT 2');
        $out['get_result'] = [pg_fetch_result(pg_get_result($c), 0, 0), pg_fetch_result(pg_get_result($c), 0, 0)];
        pg_close($c);
        $out['bad_connect'] = pg_connect('host=127.0.0.1 port=1 user=postgres connect_timeout=2', PGSQL_CONNECT_FORCE_NEW);

        $db = new PDO(pg_dsn($port), 'postgres', '', [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
        $db->exec('CREATE TEMP TABLE u (id int)');
        $db->beginTransaction();
        $db->exec('INSERT INTO u VALUES (1)');
        $db->rollBack();
        $db->beginTransaction();
        $st = $db->prepare('INSERT INTO u VALUES (?)');
        $st->execute([2]);
        $st->execute([3]);
        $db->commit();
        $out['pdo_rows'] = $db->query('SELECT id FROM u ORDER BY id')->fetchAll(PDO::FETCH_COLUMN);
        try {
            $db->query('SELECT * FROM no_such_table');
        } catch (PDOException $e) {
            $out['pdo_error'] = [$e->getCode(), $e->getMessage(), $e->errorInfo];
        }
    } finally {
        restore_error_handler();
    }
    $out['warnings'] = $warn;
    return $out;
}


if (PHP_SAPI === 'cli') {
    echo json_encode(pg_ops((int) $argv[1])), "\n";
}
