#!/usr/bin/env bash
# Shared handles under a mixed load: does every reply reach the request that
# asked, for a while, with clients that hang up and requests cut by
# TrueAsyncRequestTimeout? A private MariaDB, PostgreSQL and redis-server
# and an Apache (event MPM, one child, TrueAsyncThreads 2,
# TrueAsyncRequestTimeout SHARED_TIMEOUT) serving bench/shared_worker.php,
# whose threads each keep, from boot, a PDO (pdo_mysql), a pgsql link, a
# raw RESP socket, Debian's Predis and a curl handle (to /echo.txt of the
# same Apache, which echoes the query string in a header). bench/sharedc.c
# sends SECONDS (60) of requests over CONNS (64) connections, each with an
# id of its own: SHARED_MIX (normal=90,abort=3,late=6,slow=1) of
#   normal  a random subset of the handles, each a value of the request's
#           own written and read back, coroutine waits in between
#   abort   the client closes as soon as the request is out
#   late    the client closes 1..150 ms later (mid-request)
#   slow    a command longer than the timeout on a shared handle, taking
#           turns from SHARED_SLOW (pdo,pg,raw,predis): SLEEP(10),
#           pg_sleep(10), BLPOP 10 on the raw socket, BLPOP 10 on Predis
# then, SHARED_SETTLE (12) s later, /check rounds until every thread
# answered: each of its handles must still work. Prints answers per kind and
# status, requests/s, the Apache's CPU µs per request (utime+stime from
# /proc), each handle's ok/mismatch/error, and the key figures: replies that
# were another request's (must be 0), hangs (no answer in SHARED_DEADLINE,
# 30 s; must be 0), dead handles after the load (must be 0), and the error
# log's TA00867/868/869 and crashes. Exits 1 on any mismatch, hang, dead
# handle or crash. Not part of `make test`.
#   bench/shared.sh [SECONDS [CONNS]]
# Environment: SHARED_PORT (Apache; MariaDB, PostgreSQL and Redis take the
# next three; default: free ports), SHARED_TIMEOUT (3), SHARED_MIX,
# SHARED_SLOW, SHARED_SETTLE, SHARED_DEADLINE, SHARED_HANDLES (those /r
# picks from, default raw,predis,pdo,pg,curl: to narrow a lapse down),
# SHARED_RESYNC=0 (a handle that lapsed is not made again by the worker:
# one lapse then shows in every later request). A crashed child leaves its
# core in build/bench/shared/cores. Loopback only; stops everything it
# started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/shared
HTTPD=${SHARED_HTTPD:-/usr/sbin/apache2}
SECS=${1:-60}
CONNS=${2:-64}
TIMEOUT=${SHARED_TIMEOUT:-3}
MIX=${SHARED_MIX:-normal=90,abort=3,late=6,slow=1}
SLOW=${SHARED_SLOW:-pdo,pg,raw,predis}
SETTLE=${SHARED_SETTLE:-12}
DEADLINE=${SHARED_DEADLINE:-30}
MODULE=${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}
log() { echo "shared: $*" >&2; }

case "$SECS$CONNS" in *[!0-9]*) sed -n '2,37s/^# \{0,1\}//p' "$0" >&2; exit 2 ;; esac
[ -f "$MODULE" ] || { log "$MODULE missing; run 'make module' first"; exit 1; }
[ -f /usr/share/php/Predis/autoload.php ] || { log "Debian's php-predis missing (scripts/setup.sh installs it)"; exit 1; }
. "$ROOT/bench/lib.sh"   # stop_httpd, ticks_of, pg_start, mariadb_start, redis_start
rm -rf "$OUT"; mkdir -p "$OUT"
cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/sharedc" "$ROOT/bench/sharedc.c"

httpd_pid="" load_pid=""
cleanup() {
  [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null || true
  stop_httpd; pg_stop; mariadb_stop; redis_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${SHARED_PORT:-}" ]; then
  web=$SHARED_PORT my=$((SHARED_PORT + 1)) PG_PORT=$((SHARED_PORT + 2)) rd=$((SHARED_PORT + 3))
else
  web=$(free_port) my=$(free_port) PG_PORT=$(free_port) rd=$(free_port)
fi
mariadb_start "$OUT/mariadb" "$my"
"${mariadb_sql[@]}" -e 'CREATE DATABASE soak; CREATE TABLE soak.kv (id VARCHAR(64) PRIMARY KEY, v VARCHAR(128)) ENGINE=InnoDB'
PG_PORT=$PG_PORT pg_start "$OUT/pg"
"${pg_psql[@]}" -c 'CREATE TABLE kv (id text PRIMARY KEY, v text)'
redis_start "$OUT/redis" "$rd"
export SHARED_MYSQL_PORT=$my SHARED_PG_PORT=$pg_port SHARED_REDIS_PORT=$rd SHARED_WEB_PORT=$web
export SHARED_RESYNC=${SHARED_RESYNC:-1} SHARED_HANDLES=${SHARED_HANDLES:-raw,predis,pdo,pg,curl}

mkdir -p "$OUT/cores"; chmod 1777 "$OUT/cores"
cat > "$OUT/shared.conf" <<CONF
LoadModule trueasync_module $MODULE
TrueAsyncWorker $ROOT/bench/shared_worker.php
TrueAsyncThreads 2
# Room for every connection: a 503 from a full queue is not what is looked at.
TrueAsyncBufferSize $CONNS
TrueAsyncRequestTimeout $TIMEOUT
# A crashed child leaves its core here (gdb /usr/sbin/apache2 CORE).
CoreDumpDirectory $OUT/cores
<LocationMatch "^/(r|slow|check)\$">
    SetHandler trueasync-worker
</LocationMatch>
# The curl handle's other end: a static file that says whom it answers.
<Location /echo.txt>
    Header always set X-Echo "expr=%{QUERY_STRING}"
</Location>
CONF
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/shared.conf" -a off -t $((2 * CONNS + 32)) \
        -r "$ROOT/bench/shared_worker.php" -r /usr/share/php/Predis/autoload.php "$OUT/httpd" "$web")
echo echo > "$OUT/httpd/htdocs/echo.txt"
"$HTTPD" -f "$conf" -t >/dev/null 2>&1 || { log "config test failed"; "$HTTPD" -f "$conf" -t; exit 1; }
(ulimit -c unlimited 2>/dev/null || true; exec "$HTTPD" -f "$conf" -DFOREGROUND) & httpd_pid=$!
ready=""
for _ in $(seq 150); do
  body=$(curl -s --max-time 5 "http://127.0.0.1:$web/check?id=boot$RANDOM" || true)
  case $body in *'"sum":"raw=ok,predis=ok,pdo=ok,pg=ok,curl=ok"'*) ready=1; break ;; esac
  kill -0 "$httpd_pid" 2>/dev/null || break
  sleep 0.2
done
[ -n "$ready" ] || { log "the worker does not answer with every handle ok: ${body:-nothing}; see $OUT/httpd/error_log"
                     tail -20 "$OUT/httpd/error_log" >&2; exit 1; }
child=$(pgrep -P "$httpd_pid" | head -1)

log "Apache :$web (child $child), MariaDB :$my, PostgreSQL :$pg_port, Redis :$rd; $CONNS connections," \
    "$SECS s, mix $MIX, slow on $SLOW, TrueAsyncRequestTimeout $TIMEOUT"
t0=$(ticks_of "$httpd_pid")
"$OUT/sharedc" -p "$web" -c "$CONNS" -d "$SECS" -m "$MIX" -s "$SLOW" -t "$DEADLINE" -x L \
  -o "$OUT/lapses.log" > "$OUT/load.txt" & load_pid=$!
wait "$load_pid" || { log "load client failed"; exit 1; }
load_pid=""
t1=$(ticks_of "$httpd_pid")

# What the cancelled commands left on the servers ends meanwhile (BLPOP 10,
# SLEEP(10) and its KILL), then every thread's handles once more.
log "load done; the final round in $SETTLE s"
sleep "$SETTLE"
: > "$OUT/final.txt"
for round in 1 2 3 4 5; do
  "$OUT/sharedc" -p "$web" -c 8 -n 24 -m check=1 -t "$DEADLINE" -x "F$round" -b \
    -o "$OUT/final-lapses.log" >> "$OUT/final.txt"
  [ "$(awk '/^body 200 / { match($0, /"thr":"[0-9a-f]+"/); print substr($0, RSTART, RLENGTH) }' "$OUT/final.txt" |
       sort -u | wc -l)" -ge 2 ] && break
done
now_child=$(pgrep -P "$httpd_pid" | head -1 || true)
stop_httpd

elog=$OUT/httpd/error_log
count() { grep -c -- "$1:" "$elog" || true; }
python3 - "$OUT" "$SECS" "$t0" "$t1" "$(getconf CLK_TCK)" "$child" "${now_child:-none}" \
  "$(count TA00867)" "$(count TA00868)" "$(count TA00869)" "$(count TA00900)" "$(count TA00960)" "$(count TA00865)" \
  "$(grep -cE 'exit signal|AddressSanitizer|Segmentation fault' "$elog" || true)" \
  "$("$HTTPD" -v | sed -n 's/^Server version: //p')" "$(nproc)" "$CONNS" "$MIX" "$SLOW" "$TIMEOUT" <<'PY'
import json, sys
(out, secs, t0, t1, hz, child, now_child, c867, c868, c869, c900, c960, c865, crashes,
 server, cpus, conns, mix, slow, timeout) = sys.argv[1:]
kinds, handles, idm, total = [], [], 0, None
for l in open(f"{out}/load.txt"):
    w = l.split()
    if w[0] == "kind": kinds.append((w[1], dict(zip(w[2::2], map(int, w[3::2])))))
    elif w[0] == "handle": handles.append((w[1], dict(zip(w[2::2], map(int, w[3::2])))))
    elif w[0] == "idmismatch": idm = int(w[1])
    elif w[0] == "total": total = dict(zip(w[1::2], w[2::2]))
sent = int(total["sent"])
rate = float(total["rate"])
cpu_us = (int(t1) - int(t0)) * 1e6 / int(hz) / sent if sent else 0
print(f"\nShared handles under load: {server}, event MPM, 1 child, 2 PHP threads, TrueAsyncRequestTimeout {timeout} s, "
      f"{cpus} CPUs; {conns} connections, {secs} s; mix {mix}; slow commands on {slow}")
print(f"{'kind':<8} {'sent':>7} {'answered':>9} {'aborted':>8} {'hang':>5} {'broken':>7}  statuses")
hangs = 0
for k, d in kinds:
    st = ", ".join(f"{s[1:]}: {v}" for s, v in sorted(d.items()) if s[0] == "s" and s[1:].isdigit())
    hangs += d["hang"]
    print(f"{k:<8} {d['sent']:>7} {d['answered']:>9} {d['aborted']:>8} {d['hang']:>5} {d['broken']:>7}  {st or '-'}")
print(f"{sent} requests in {total['seconds']} s: {rate:.0f} requests/s; Apache CPU {cpu_us:.0f} µs per request")
# the final round: every answer of each thread, and its counters (the
# worker's, of every request it served, answered or cut off)
threads = {}
for l in open(f"{out}/final.txt"):
    w = l.split()
    if w[0] == "kind": hangs += int(w[w.index("hang") + 1])
    if not l.startswith("body 200 "): continue
    j = json.loads(l[9:])
    t = threads.setdefault(j["thr"], {"words": {}, "reconnects": {}, "counts": {}})
    for kv in j.get("sum", "").split(","):
        h, _, word = kv.partition("=")
        t["words"].setdefault(h, []).append(word)
    # counters only grow: the highest seen is the latest (answers come in any order)
    for h, n in j.get("reconnects", {}).items():
        t["reconnects"][h] = max(n, t["reconnects"].get(h, 0))
    for h, c in j.get("counts", {}).items():
        mine = t["counts"].setdefault(h, {})
        for x, n in c.items():
            mine[x] = max(n, mine.get(x, 0))
print("handle   answers the client got (ok mismatch error) | every use the worker counted, final round included")
seen = 0
for h, d in handles:
    seen += d["mismatch"]
    wk = {x: sum(t["counts"].get(h, {}).get(x, 0) for t in threads.values()) for x in ("ok", "mismatch", "error")}
    print(f"{h:<8} {d['ok']:>8} {d['mismatch']:>8} {d['error']:>8}                        | "
          f"{wk['ok']:>8} {wk['mismatch']:>8} {wk['error']:>8}")
counted = sum(c.get("mismatch", 0) for t in threads.values() for c in t["counts"].values())
after = []
for thr, t in sorted(threads.items()):
    bad = [f"{h} {'/'.join(ws)}" for h, ws in t["words"].items() if any(w != "ok" for w in ws)]
    after += [f"{thr}/{h}" for h, ws in t["words"].items() if any(w != "ok" for w in ws)]
    rc = ", ".join(f"{h} {n}" for h, n in sorted(t["reconnects"].items())) or "none"
    print(f"thread {thr}: {len(next(iter(t['words'].values()), []))} checks after the load; "
          + ("answers not ok: " + "; ".join(bad) if bad else "every handle ok each time")
          + f"; handles the worker had to make again: {rc}")
if len(threads) < 2:
    after.append(f"only {len(threads)} of 2 threads answered the final round")
crashed = int(crashes) > 0 or child != now_child
mism = max(seen, counted) + idm
print(f"error log: TA00867 {c867} (statement cut), TA00868 {c868} (shared connection closed), "
      f"TA00869 {c869} (KILL QUERY), TA00900 {c900} (request timeouts), TA00960 {c960} (pg cancel), "
      f"TA00865 {c865} (rolled back); crashes {crashes}" + ("" if child == now_child else f"; child {child} -> {now_child}"))
print(f"KEY: replies that were another request's {mism} (answers with a wrong id {idm}, handle replies "
      f"seen by the client {seen}, counted by the worker {counted}); hangs {hangs}; handles not working after the load "
      f"{len(after)}" + (f" ({', '.join(after)})" if after else "") + f"; crashed {'yes' if crashed else 'no'}")
print(f"(lapses: {out}/lapses.log and 'shared lapse' in {out}/httpd/error_log)")
sys.exit(1 if mism or hangs or after or crashed else 0)
PY
