<?php
// The order in which coroutines run, as php-async defines it (issue 20):
// each path runs a small program inside the request coroutine and prints
// what happens, in the order it happens; the test compares the lines.
use FrankenPHP\HttpServer;
use Async\{Channel, ChannelException, Scope, FutureState, Future, AsyncCancellation};
use function Async\{spawn, await, await_all, delay, suspend, timeout};

function spin_ms(float $ms): void
{
    $until = hrtime(true) + (int) ($ms * 1e6);
    while (hrtime(true) < $until) {}
}

function yes(bool $b): string { return $b ? 'yes' : 'no'; }

function reason_of(Throwable $e): string
{
    return $e instanceof ChannelException ? $e->reason->name . ' (' . $e->getMessage() . ')' : get_class($e);
}

HttpServer::onRequest(function ($req, $res) {
    $res->setHeader('Content-Type', 'text/plain');
    switch (parse_url($req->getUri(), PHP_URL_PATH)) {
    case '/spawn-order':
        // a spawned coroutine waits behind those already queued; one that
        // suspends goes behind those queued meanwhile
        $a = spawn(function () {
            echo "a starts\n";
            spawn(fn () => print("c (spawned by a) runs\n"));
            suspend();
            echo "a resumes\n";
        });
        $b = spawn(function () { echo "b starts\n"; suspend(); echo "b resumes\n"; });
        echo "request goes on after spawning\n";
        await_all([$a, $b]);
        break;
    case '/queue-before-loop':
        // a timer that fell due while coroutines kept each other busy fires
        // once none of them is ready any more, not between two of them
        $timer = spawn(function () { delay(1); echo "timer fired\n"; });
        $busy = spawn(function () {
            for ($i = 1; $i <= 4; $i++) { spin_ms(3); echo "busy $i\n"; suspend(); }
        });
        await_all([$timer, $busy]);
        break;
    case '/channel-slot-kept':
        // a slot freed by recv() is kept for the sender waiting for it: the
        // receiver's next recv() waits until that sender ran
        $ch = new Channel(1);
        $ch->send('first');
        $s = spawn(function () use ($ch) { echo "sender waits for room\n"; $ch->send('second'); echo "sender done\n"; });
        $r = spawn(function () use ($ch) {
            $v = $ch->recv();
            echo "receiver got $v\n";
            $v = $ch->recv();
            echo "receiver got $v\n";
        });
        await_all([$s, $r]);
        echo 'count: ', count($ch), "\n";
        break;
    case '/channel-receivers':
        // unbuffered, one sender, two receivers: who gets what, and when
        $ch = new Channel(0);
        $all = [spawn(function () use ($ch) {
            foreach (['x', 'y', 'z'] as $v) { echo "send $v\n"; $ch->send($v); }
            $ch->close();
            echo "closed\n";
        })];
        foreach (['R1', 'R2'] as $name) {
            $all[] = spawn(function () use ($ch, $name) {
                try { for (;;) { $v = $ch->recv(); echo "$name: $v\n"; } }
                catch (ChannelException $e) { echo "$name: ", $e->reason->name, "\n"; }
            });
        }
        await_all($all);
        break;
    case '/channel-unbuffered-async':
        // sendAsync() on an unbuffered channel with no receiver parks the
        // value in its one slot
        $ch = new Channel(0);
        echo 'sendAsync: ', yes($ch->sendAsync('p')), ', count ', count($ch), ', full ', yes($ch->isFull()), "\n";
        echo 'again: ', yes($ch->sendAsync('q')), "\n";
        $v = await(spawn(fn () => $ch->recv()));
        echo "received: $v, full ", yes($ch->isFull()), "\n";
        break;
    case '/channel-cancelled-sender':
        // a sender cancelled before it used the slot kept for it hands the
        // slot to the next sender
        $ch = new Channel(1);
        $ch->send('fill');
        $s1 = spawn(function () use ($ch) {
            try { $ch->send('one'); echo "s1 sent\n"; } catch (AsyncCancellation) { echo "s1 cancelled\n"; }
        });
        suspend();
        $s2 = spawn(function () use ($ch) { $ch->send('two'); echo "s2 sent\n"; });
        suspend();
        $v = $ch->recv();
        echo "took $v\n";
        $s1->cancel();
        await($s2, timeout(2000));
        $v = $ch->recv();
        echo "left: $v, count ", count($ch), "\n";
        break;
    case '/channel-scope-end':
        // a channel closes when the scope it was made in is cancelled: at
        // once (isClosed()), and a receiver in another scope hears why
        $owner = new Scope();
        $made = new FutureState();
        $owner->spawn(function () use ($made) { $made->complete(new Channel(2)); delay(5000); });
        $ch = await(new Future($made));
        $ch->send('kept');
        $other = new Scope();
        $waiter = $other->spawn(function () use ($ch) {
            try { $v = $ch->recv(); echo "waiter got $v\n"; $ch->recv(); }
            catch (ChannelException $e) { echo 'waiter: ', reason_of($e), "\n"; }
        });
        suspend();
        echo 'closed before: ', yes($ch->isClosed()), "\n";
        $owner->cancel();
        echo 'closed after cancel: ', yes($ch->isClosed()), "\n";
        await($waiter);
        try { $ch->send('late'); } catch (ChannelException $e) { echo 'send: ', reason_of($e), "\n"; }
        break;
    case '/channel-reasons':
        // each close reason with php-async's message; foreach ends quietly
        // on close() but not on a deadlock timeout that came while it waited
        $ch = new Channel(0, 30);
        try { $ch->recv(); } catch (ChannelException $e) { echo 'recv: ', reason_of($e), "\n"; }
        $ch = new Channel(1, 0, 30);
        $ch->send(1);
        try { $ch->send(2); } catch (ChannelException $e) { echo 'send: ', reason_of($e), "\n"; }
        $ch = new Channel(0, 30);
        try { foreach ($ch as $v) {} echo "foreach ended quietly\n"; }
        catch (ChannelException $e) { echo 'foreach: ', reason_of($e), "\n"; }
        $ch = new Channel(0);
        $c = spawn(function () use ($ch) { foreach ($ch as $v) {} echo "foreach after close() ended quietly\n"; });
        suspend();
        $ch->close();
        await($c);
        try { foreach ($ch as &$v) {} } catch (Error $e) { echo get_class($e), ': ', $e->getMessage(), "\n"; }
        break;
    case '/tcp':
        // stream_socket_server() and connecting let the loop run first; a
        // read resumes after the coroutines ready meanwhile, a write goes
        // out at once (the server accepts once the client is connected)
        $port = new FutureState();
        $connected = new FutureState();
        $server = spawn(function () use ($port, $connected) {
            echo "server: bind\n";
            $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
            echo "server: bound\n";
            $port->complete(parse_url('tcp://' . stream_socket_get_name($s, false), PHP_URL_PORT));
            await(new Future($connected));
            $c = stream_socket_accept($s, 5);
            echo "server: accepted\n";
            $got = fread($c, 16);
            echo "server: read $got\n";
            fwrite($c, 'pong');
            echo "server: wrote\n";
            fclose($c);
            fclose($s);
        });
        $other = spawn(fn () => print("other: runs\n"));
        $client = spawn(function () use ($port, $connected) {
            $p = await(new Future($port));
            $c = stream_socket_client("tcp://127.0.0.1:$p", $errno, $errstr, 5);
            echo "client: connected\n";
            $connected->complete(true);
            fwrite($c, 'ping');
            echo "client: wrote\n";
            $got = fread($c, 16);
            echo "client: read $got\n";
            fclose($c);
        });
        await_all([$server, $other, $client]);
        break;
    case '/udp':
        $addr = new FutureState();
        $server = spawn(function () use ($addr) {
            echo "server: bind\n";
            $s = stream_socket_server('udp://127.0.0.1:0', $errno, $errstr, STREAM_SERVER_BIND);
            echo "server: bound\n";
            $addr->complete(stream_socket_get_name($s, false));
            $data = stream_socket_recvfrom($s, 64, 0, $peer);
            echo "server: got $data\n";
            stream_socket_sendto($s, strtoupper($data), 0, $peer);
            echo "server: answered\n";
            fclose($s);
        });
        $other = spawn(fn () => print("other: runs\n"));
        $client = spawn(function () use ($addr) {
            $c = stream_socket_client('udp://' . await(new Future($addr)), $errno, $errstr, 5);
            $n = stream_socket_sendto($c, 'hi');
            echo "client: sent $n\n";
            $got = stream_socket_recvfrom($c, 64);
            echo "client: got $got\n";
            fclose($c);
        });
        await_all([$server, $other, $client]);
        break;
    case '/udp-timeout':
        $s = stream_socket_server('udp://127.0.0.1:0', $errno, $errstr, STREAM_SERVER_BIND);
        stream_set_timeout($s, 0, 100000);
        $t = hrtime(true);
        $data = stream_socket_recvfrom($s, 64);
        $ms = (hrtime(true) - $t) / 1e6;
        echo 'recvfrom: ', var_export($data, true), ', timed out: ', yes(stream_get_meta_data($s)['timed_out']),
             ', within the timeout: ', yes($ms >= 90 && $ms < 2000), "\n";
        break;
    case '/socket-pair':
        // the streams of stream_socket_pair() wait as coroutines; a read
        // resumes after the others ready, even with the data already there
        [$a, $b] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
        $reader = spawn(function () use ($b) {
            echo "reader: reads\n";
            $got = fread($b, 16);
            echo "reader: got $got\n";
            $got = fread($b, 16);
            echo "reader: then got $got\n";
        });
        $writer = spawn(function () use ($a) {
            fwrite($a, 'one');
            echo "writer: wrote one\n";
            delay(20);
            fwrite($a, 'two');
            echo "writer: wrote two\n";
            fclose($a);
            echo "writer: closed\n";
        });
        $other = spawn(fn () => print("other: runs\n"));
        await_all([$reader, $writer, $other]);
        break;
    case '/future-order':
        $state = new FutureState();
        $f = new Future($state);
        $m1 = $f->map(function ($v) { echo "first map of $v\n"; return $v + 1; });
        $m2 = $f->map(function ($v) { echo "second map of $v\n"; return $v + 2; });
        $m3 = $f->finally(function () { echo "finally\n"; });
        $state->complete(1);
        $r = [await($m1), await($m2)];
        echo 'results: ', implode(' ', $r), "\n";
        await($m3);
        break;
    default:
        $res->setStatus(404);
    }
    $res->end();
});
