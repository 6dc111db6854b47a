#!/usr/bin/env bash
# Soak: TOTAL (1,000,000) mixed requests against one Apache child (event MPM,
# TrueAsyncThreads 2) serving bench/soak_worker.php, over kept-alive
# connections from bench/loadc.c. Per 1,000 requests: 600 hello, 150
# coroutine fan-out (10 coroutines awaited), 100 multipart uploads (8 KiB
# file), 140 streamed responses (6 chunks), 8 "Cannot redeclare" fatal
# errors, 2 memory_limit fatal errors. After every STEP requests (TOTAL/10)
# the load pauses and the child's VmRSS (/proc/PID/status), mapping count
# (lines of /proc/PID/maps) and open descriptors are recorded; at the end a
# table and the RSS growth from the first mark (after warm-up) to the end.
# Not part of `make test`.   bench/soak.sh [TOTAL [STEP]]   e.g. bench/soak.sh 100000
# Environment: SOAK_CONNECTIONS (32), SOAK_PORT (first free from 8950),
# SOAK_FATALS=0 (no fatal errors in the mix).
# Loopback only; each batch is bounded in time; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/soak
HTTPD=/usr/sbin/apache2
TOTAL=${1:-1000000}
STEP=${2:-$(( TOTAL / 10 ))}
CONNS=${SOAK_CONNECTIONS:-32}
BATCH_MAX_SECONDS=900
log() { echo "soak: $*" >&2; }

case "$TOTAL$STEP" in *[!0-9]*) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;; esac
[ "$STEP" -gt 0 ] && [ "$STEP" -le "$TOTAL" ] || { log "need 0 < STEP <= TOTAL"; exit 2; }
[ -f "$ROOT/build/mod_trueasync.so" ] || { log "run 'make module' first"; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"
cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/loadc" "$ROOT/bench/loadc.c"

port=${SOAK_PORT:-$(python3 - <<'PY'
import socket
for p in range(8950, 9150):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: s.close()
PY
)}

httpd_pid="" load_pid=""
. "$ROOT/bench/lib.sh"   # stop_httpd
cleanup() { [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null || true; stop_httpd; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$OUT/soak.conf" <<CONF
LoadModule trueasync_module $ROOT/build/mod_trueasync.so
TrueAsyncWorker $ROOT/bench/soak_worker.php
TrueAsyncThreads 2
TrueAsyncBufferSize 64
TrueAsyncPHPIni memory_limit 32M
<Location /s/>
    SetHandler trueasync-worker
</Location>
CONF
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/soak.conf" -a off -t $(( CONNS * 2 )) \
        -r "$ROOT/bench/soak_worker.php" "$OUT/httpd" "$port")
"$HTTPD" -f "$conf" -t >/dev/null 2>&1 || { log "config test failed"; "$HTTPD" -f "$conf" -t; exit 1; }
"$HTTPD" -f "$conf" -DFOREGROUND & httpd_pid=$!
for _ in $(seq 100); do
  [ "$(curl -s --max-time 2 "http://127.0.0.1:$port/s/hello" || true)" = hello ] && break
  kill -0 "$httpd_pid" 2>/dev/null || break
  sleep 0.2
done
[ "$(curl -s --max-time 2 "http://127.0.0.1:$port/s/hello" || true)" = hello ] ||
  { log "Apache did not come up; see $OUT/httpd/error_log"; tail -20 "$OUT/httpd/error_log" >&2; exit 1; }

# The multipart body: a text field and an 8 KiB file.
size=8192
python3 - "$OUT/upload.body" "$size" <<'PY'
import os, sys
path, n = sys.argv[1], int(sys.argv[2])
b = b"soakboundary7MA4YWxk"
body = (b"--" + b + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nsoak\r\n'
        + b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\n'
        + b"Content-Type: application/octet-stream\r\n\r\n" + os.urandom(n) + b"\r\n--" + b + b"--\r\n")
open(path, "wb").write(body)
PY
cat > "$OUT/spec" <<SPEC
pool soak $CONNS
route soak hello  600 200 GET /s/hello
route soak fanout 150 200 GET /s/fanout
route soak upload 100 200 POST /s/upload?size=$size multipart/form-data;boundary=soakboundary7MA4YWxk $OUT/upload.body
route soak stream 140 200 GET /s/stream
SPEC
# SOAK_FATALS=0 leaves the fatal errors out, to tell their cost from the rest.
[ "${SOAK_FATALS:-1}" = 0 ] || printf '%s\n' "route soak fatal 8 500 GET /s/fatal" "route soak oom 2 500 GET /s/oom" >> "$OUT/spec"

child=$(pgrep -P "$httpd_pid" | head -1)
sample() {  # requests-so-far seconds rate failures
  local rss maps fds
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$child/status")
  maps=$(wc -l < "/proc/$child/maps")
  fds=$(ls "/proc/$child/fd" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$rss" "$maps" "$fds" "$2" "$3" "$4" >> "$OUT/marks.tsv"
  log "$(printf '%9s requests  RSS %7.1f MiB  maps %6s  fds %4s  %s req/s  failed %s' \
          "$1" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$maps" "$fds" "$3" "$4")"
}
log "port $port, child $child, $CONNS kept-alive connections, $TOTAL requests, a mark every $STEP"
: > "$OUT/marks.tsv"
sample 0 - - -
done_n=0 batch=0 crashed=""
while [ "$done_n" -lt "$TOTAL" ]; do
  n=$(( TOTAL - done_n < STEP ? TOTAL - done_n : STEP ))
  batch=$((batch + 1))
  timeout $((BATCH_MAX_SECONDS + 60)) "$OUT/loadc" -p "$port" -f "$OUT/spec" -k -n "$n" \
    -d "$BATCH_MAX_SECONDS" -t 10 > "$OUT/batch-$batch.txt" & load_pid=$!
  wait "$load_pid" || { log "load client failed"; exit 1; }
  load_pid=""
  sent=$(awk '/^total/ { print $3 }' "$OUT/batch-$batch.txt")
  [ "$sent" -gt 0 ] || { log "no request was sent"; exit 1; }
  now_child=$(pgrep -P "$httpd_pid" | head -1 || true)
  if [ "$now_child" != "$child" ]; then
    # A new child's memory says nothing about the old one's: stop measuring.
    crashed="the Apache child $child died between $done_n and $((done_n + sent)) requests (new child: ${now_child:-none}); see $OUT/httpd/error_log"
    log "$crashed"
    done_n=$((done_n + sent))
    break
  fi
  done_n=$((done_n + sent))
  sample "$done_n" "$(awk '/^total/ { print $5 }' "$OUT/batch-$batch.txt")" \
         "$(awk '/^total/ { print $7 }' "$OUT/batch-$batch.txt")" \
         "$(awk '/^route/ { f += $4 - $6 } END { print f }' "$OUT/batch-$batch.txt")"
done
stop_httpd

echo
echo "Soak: $($HTTPD -v | sed -n 's/^Server version: //p'), event MPM, 1 child, 2 PHP threads," \
     "$(nproc) CPUs; $CONNS kept-alive connections; $done_n of $TOTAL requests;" \
     "vm.max_map_count $(cat /proc/sys/vm/max_map_count)"
python3 - "$OUT" <<'PY'
import collections, glob, sys
out = sys.argv[1]
marks = [l.rstrip("\n").split("\t") for l in open(f"{out}/marks.tsv")]
print(f"{'requests':>10} {'RSS MiB':>9} {'maps':>7} {'fds':>5} {'seconds':>8} {'req/s':>7} {'failed':>7}")
for n, rss, maps, fds, secs, rate, failed in marks:
    print(f"{int(n):>10,} {int(rss) / 1024:>9.1f} {maps:>7} {fds:>5} {secs:>8} {rate:>7} {failed:>7}")
if len(marks) >= 3:
    first, last = int(marks[1][1]), int(marks[-1][1])
    print(f"RSS growth after warm-up ({int(marks[1][0]):,} -> {int(marks[-1][0]):,} requests): "
          f"{(last - first) / first * 100:+.1f} % ({(last - first) / 1024:+.1f} MiB); "
          f"maps {int(marks[1][2])} -> {int(marks[-1][2])}")
else:
    print("RSS growth after warm-up: needs two marks after the start")
tot = collections.OrderedDict()
for f in sorted(glob.glob(f"{out}/batch-*.txt")):
    for l in open(f):
        w = l.split()
        if w[0] != "route": continue
        t = tot.setdefault(w[1], collections.Counter())
        for k, v in zip(w[2::2], w[3::2]): t[k] += int(v)
print(f"{'route':<8} {'sent':>9} {'ok':>9} {'failed':>7}  failures")
for r, t in tot.items():
    kinds = ", ".join(f"{k} {t[k]}" for k in ("status", "connect", "reset", "empty", "truncated", "timeout") if t[k]) or "-"
    print(f"{r:<8} {t['sent']:>9,} {t['ok']:>9,} {t['sent'] - t['ok']:>7}  {kinds}")
PY
echo "(fatal and oom expect 500; error log: $OUT/httpd/error_log)"
[ -z "$crashed" ] || { echo "CRASHED: $crashed"; exit 1; }
