<?php
// set_error_handler(), set_exception_handler(), restore_error_handler()
// and error_reporting() inside a request stay that request's (isolation).
use FrankenPHP\HttpServer;

// The handlers note who took the warning; trig() reads that back at once
// (no other request runs between), so requests sharing $GLOBALS don't mix.
$GLOBALS['took'] = null;
function trig(string $msg): ?string { $GLOBALS['took'] = null; trigger_error($msg, E_USER_WARNING); return $GLOBALS['took']; }
set_error_handler(function ($no, $msg) { $GLOBALS['took'] = "boot:$msg"; return true; });
error_reporting(E_ALL);

HttpServer::onRequest(function ($req, $res) {
    $q = $req->getQueryParams();
    $id = $q['id'] ?? '?';
    $seen = [];
    $o = ['id' => $id, 'last_at_start' => error_get_last()['message'] ?? null];
    if (isset($q['last'])) {        // error_get_last() is the request's own
        restore_error_handler();    // PHP records the last error only without a handler taking it
        @trigger_error("secret of $id", E_USER_NOTICE);
        Async\delay((int) ($q['ms'] ?? 0));
        $o['last_after_wait'] = error_get_last()['message'] ?? null;
        $res->write(json_encode($o));
        return;
    }
    if (isset($q['set'])) {
        set_error_handler(function ($no, $msg) use ($id) { $GLOBALS['took'] = "$id:$msg"; return true; });
        set_exception_handler(fn ($e) => null);
        error_reporting(E_ALL & ~E_NOTICE);
        Async\delay((int) ($q['ms'] ?? 0));
        $o['level_after_wait'] = error_reporting();
        $seen[] = trig('mine');
        [$took, $o['child']] = Async\await(Async\spawn(fn () => [trig('from child'), error_reporting()]));
        $seen[] = $took;
        restore_error_handler();
        $seen[] = trig('restored');
        $o['exception_handler_was_set'] = set_exception_handler(null) !== null;
    } else {
        $seen[] = trig('probe');
        $o['level'] = error_reporting();
        $prev = set_exception_handler(null);
        $o['exception_handler'] = $prev !== null;
        set_exception_handler($prev);
    }
    $o['seen'] = $seen;
    $res->write(json_encode($o));
});
