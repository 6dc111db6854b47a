#!/usr/bin/env bash
# Requests lost under disruption. A private Apache (event MPM, one child,
# TrueAsyncThreads 2) serves PHP routes (bench/chaos_worker.php) and, in the
# same child, a mod_proxy route to a slow local upstream (bench/upstream.c,
# 200 ms). Each scenario loads both at once for CHAOS_SECONDS (15) with
# bench/loadc.c, which records what became of every request:
#   graceful  three graceful restarts (SIGUSR1 to the parent) at 1/4, 1/2, 3/4
#   kill9     kill -9 of the child at 1/2; failures of requests in flight at
#             that moment are counted apart from the others
#   fatal     20 % of the PHP requests hit a fatal error (half "Cannot
#             redeclare", half memory_limit), 80 % hello; only those may 500
# Lost: no complete HTTP response (reset, empty, truncated, timeout, refused)
# or an unexpected status. One new connection per request, so the closing of
# idle kept-alive connections by a restart is not counted.
# Not part of `make test`.  bench/chaos.sh [graceful] [kill9] [fatal]
# Environment: CHAOS_SECONDS (15), CHAOS_PHP_CONNECTIONS (24),
# CHAOS_PROXY_CONNECTIONS (8), CHAOS_PORT (first free from 8900).
# Loopback only; bounded in time; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/chaos
HTTPD=/usr/sbin/apache2
MODDIR=/usr/lib/apache2/modules
SECS=${CHAOS_SECONDS:-15}
PHP_CONNS=${CHAOS_PHP_CONNECTIONS:-24}
PROXY_CONNS=${CHAOS_PROXY_CONNECTIONS:-8}
UP_DELAY_MS=200
REQ_TIMEOUT=10
log() { echo "chaos: $*" >&2; }

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(graceful kill9 fatal)
for s in "${scenarios[@]}"; do
  case $s in graceful|kill9|fatal) ;; *) sed -n '2,19s/^# \{0,1\}//p' "$0" >&2; exit 2 ;; esac
done
[ -f "$ROOT/build/mod_trueasync.so" ] || { log "run 'make module' first"; exit 1; }
[ -f "$MODDIR/mod_proxy_http.so" ] || { log "$MODDIR/mod_proxy_http.so missing (apache2)"; exit 1; }
mkdir -p "$OUT"
cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/loadc" "$ROOT/bench/loadc.c"
cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/upstream" "$ROOT/bench/upstream.c" -luv

# First free loopback port at or above $1 (a port of our own, not 8080).
free_port() {
  python3 - "$1" <<'PY'
import socket, sys
for p in range(int(sys.argv[1]), int(sys.argv[1]) + 200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: s.close()
PY
}
web=${CHAOS_PORT:-$(free_port 8900)}
up=$(free_port $((web + 1)))

httpd_pid="" up_pid="" load_pid=""
. "$ROOT/bench/lib.sh"   # stop_httpd
cleanup() {
  [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null || true
  stop_httpd
  [ -z "$up_pid" ] || kill "$up_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$OUT/upstream" "$up" "$UP_DELAY_MS" & up_pid=$!

cat > "$OUT/chaos.conf" <<CONF
LoadModule trueasync_module $ROOT/build/mod_trueasync.so
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_http_module $MODDIR/mod_proxy_http.so
TrueAsyncWorker $ROOT/bench/chaos_worker.php
TrueAsyncThreads 2
# Room for every connection: a 503 from a full queue is not what is measured.
TrueAsyncBufferSize 64
TrueAsyncPHPIni memory_limit 32M
<Location /php/>
    SetHandler trueasync-worker
</Location>
ProxyPass /proxy/ http://127.0.0.1:$up/ timeout=$REQ_TIMEOUT
CONF

start_httpd() {  # dir
  local conf
  conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/chaos.conf" -a off \
          -t $(( (PHP_CONNS + PROXY_CONNS) * 2 )) -r "$ROOT/bench/chaos_worker.php" "$1" "$web")
  "$HTTPD" -f "$conf" -t >/dev/null 2>&1 || { log "config test failed"; "$HTTPD" -f "$conf" -t; exit 1; }
  "$HTTPD" -f "$conf" -DFOREGROUND & httpd_pid=$!
  for _ in $(seq 100); do  # the PHP threads boot after the child starts
    [ "$(curl -s --max-time 2 "http://127.0.0.1:$web/php/hello" || true)" = hello ] &&
      [ "$(curl -s --max-time 2 "http://127.0.0.1:$web/proxy/" || true)" = ok ] && return 0
    kill -0 "$httpd_pid" 2>/dev/null || break
    sleep 0.2
  done
  log "Apache did not come up; see $1/error_log"; tail -20 "$1/error_log" >&2; exit 1
}

# Sleeps until $1 seconds after $2 (an EPOCHREALTIME).
sleep_until() { local d; d=$(awk -v a="$1" -v t0="$2" -v now="$EPOCHREALTIME" 'BEGIN { d = t0 + a - now; print (d > 0 ? d : 0) }'); sleep "$d"; }

child_pids() { echo $(pgrep -P "$httpd_pid" 2>/dev/null || true); }

: > "$OUT/results.tsv"
for sc in "${scenarios[@]}"; do
  dir=$OUT/$sc
  rm -rf "$dir"; mkdir -p "$dir"
  start_httpd "$dir/httpd"
  {
    echo "pool php $PHP_CONNS"
    echo "pool proxy $PROXY_CONNS"
    if [ "$sc" = fatal ]; then
      echo "route php hello 8 200 GET /php/hello"
      echo "route php fatal-redeclare 1 500 GET /php/fatal-redeclare"
      echo "route php fatal-oom 1 500 GET /php/fatal-oom"
    else
      echo "route php hello 1 200 GET /php/hello"
      echo "route php wait 1 200 GET /php/wait"
    fi
    echo "route proxy proxy 1 200 GET /proxy/"
  } > "$dir/spec"
  log "$sc: $PHP_CONNS connections to PHP routes and $PROXY_CONNS to the proxy route for $SECS s (port $web)"
  : > "$dir/events"
  t0=$EPOCHREALTIME
  timeout $((SECS + REQ_TIMEOUT + 30)) "$OUT/loadc" -p "$web" -f "$dir/spec" -d "$SECS" -t "$REQ_TIMEOUT" \
    -o "$dir/requests.log" > "$dir/summary.txt" & load_pid=$!
  case $sc in
    graceful)
      for q in 1 2 3; do
        sleep_until "$(awk -v s="$SECS" -v q=$q 'BEGIN { print s * q / 4 }')" "$t0"
        before=$EPOCHREALTIME; kill -USR1 "$httpd_pid"; after=$EPOCHREALTIME
        echo "graceful $before $after" >> "$dir/events"
        log "  graceful restart at $(awk -v a="$before" -v t0="$t0" 'BEGIN { printf "%.1f", a - t0 }') s"
      done ;;
    kill9)
      sleep_until "$(awk -v s="$SECS" 'BEGIN { print s / 2 }')" "$t0"
      kids=$(child_pids)
      [ -n "$kids" ] || { log "no Apache child to kill"; exit 1; }
      before=$EPOCHREALTIME; kill -KILL $kids; after=$EPOCHREALTIME
      echo "kill9 $before $after" >> "$dir/events"
      log "  kill -9 of child $kids at $(awk -v a="$before" -v t0="$t0" 'BEGIN { printf "%.1f", a - t0 }') s" ;;
  esac
  wait "$load_pid" || { log "load client failed"; exit 1; }
  load_pid=""
  alive=yes; kill -0 "$httpd_pid" 2>/dev/null || alive=no
  stop_httpd
  python3 - "$sc" "$dir" "$alive" >> "$OUT/results.tsv" <<'PY'
import collections, sys
sc, d, alive = sys.argv[1], sys.argv[2], sys.argv[3]
ev = [(k, float(a), float(b)) for k, a, b in (l.split() for l in open(f"{d}/events"))]
kills = [(a, b) for k, a, b in ev if k == "kill9"]
gracefuls = [(a, b) for k, a, b in ev if k == "graceful"]
# In flight at an event: started before it ended, finished after it began.
def at(evs, s, e): return any(s < b and e > a for a, b in evs)
rows = collections.OrderedDict()
for line in open(f"{d}/requests.log"):
    pool, route, s, e, kind, status = line.split()
    s, e = int(s) / 1e6, int(e) / 1e6
    r = rows.setdefault(route, {"sent": 0, "ok": 0, "lost": 0, "inflight": 0, "atgraceful": 0, "kinds": collections.Counter()})
    r["sent"] += 1
    if kind == "ok":
        r["ok"] += 1
        continue
    r["kinds"][kind if kind != "status" else f"status {status}"] += 1
    if at(kills, s, e):
        r["inflight"] += 1
    else:
        r["lost"] += 1
        if at(gracefuls, s, e): r["atgraceful"] += 1
for route, r in rows.items():
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(r["kinds"].items())) or "-"
    if r["atgraceful"]: kinds += f" ({r['atgraceful']} in flight at a restart)"
    if alive == "no": kinds += " [Apache parent died]"
    print("\t".join(map(str, [sc, route, r["sent"], r["ok"], r["lost"], r["inflight"] if kills else "-", kinds])))
PY
done

echo
echo "Requests lost under disruption: $($HTTPD -v | sed -n 's/^Server version: //p'), event MPM, 1 child," \
     "2 PHP threads, $(nproc) CPUs; ${SECS} s per scenario, $PHP_CONNS connections to PHP routes +" \
     "$PROXY_CONNS to mod_proxy (upstream ${UP_DELAY_MS} ms), one connection per request"
python3 - "$OUT/results.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
head = ["scenario", "route", "sent", "ok", "lost", "killed in flight", "failures"]
w = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(6)]
fmt = lambda r: "  ".join((r[i].ljust(w[i]) if i < 2 else r[i].rjust(w[i])) for i in range(6)) + "  " + r[6]
print(fmt(head)); print(fmt(["-" * x for x in w] + ["-" * 8]))
for r in rows: print(fmt(r))
PY
echo "lost: no complete response or an unexpected status, excluding (for kill9) the requests"
echo "in flight at the kill, counted under 'killed in flight'. Per-request logs: $OUT/*/requests.log"
