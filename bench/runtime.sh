#!/usr/bin/env bash
# Runtime benchmarks (issue: scheduler and reactor), on one PHP thread:
#  - spawn+await throughput beside raw Fiber start/resume, same run;
#  - coroutine switch rate beside a raw Fiber resume/suspend;
#  - 100,000 coroutines suspended in Async\delay() at once: all complete,
#    memory per suspended coroutine (Zend heap and RSS);
#  - p99 lateness of delay(10) under 1,000 concurrent coroutines.
# Loopback only; stops its Apache when done.   bench/runtime.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/runtime
mkdir -p "$OUT"
# BENCH_MODULE: another build's .so, to compare builds in the same harness.
MODULE=${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}
[ -f "$MODULE" ] || { echo "runtime: $MODULE missing; run 'make module' first" >&2; exit 1; }
# Every suspended coroutine is a Fiber with its own C stack: two memory
# mappings (stack and guard page). Linux's default vm.max_map_count (65530)
# stops a process near 32k coroutines, so raise it for the 100k run.
old_maps=$(cat /proc/sys/vm/max_map_count)
if [ "$old_maps" -lt 262144 ]; then
  if sysctl -qw vm.max_map_count=262144 2>/dev/null; then restore_maps=$old_maps
  else echo "runtime: vm.max_map_count is $old_maps; the 100k run may fail (run as root to raise it)" >&2; fi
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$OUT/runtime.conf" <<CONF
LoadModule trueasync_module $MODULE
TrueAsyncWorker $ROOT/bench/runtime_worker.php
TrueAsyncThreads 1
TrueAsyncBufferSize 4
TrueAsyncPHPIni memory_limit 4G
<Location />
    SetHandler trueasync-worker
</Location>
CONF
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/runtime.conf" -a off -r "$ROOT/bench/runtime_worker.php" "$OUT/httpd" "$port")
/usr/sbin/apache2 -f "$conf" -k start
cleanup() {
  /usr/sbin/apache2 -f "$conf" -k stop >/dev/null 2>&1 || true
  [ -z "${restore_maps:-}" ] || sysctl -qw vm.max_map_count="$restore_maps" || true
}
trap cleanup EXIT
for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/fiber?n=1" && break; sleep 0.1; done
get() { curl -sf -m 120 "http://127.0.0.1:$port$1"; }
rate() { python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["per_sec"]))' "$1"; }
get "/fiber?n=20000" >/dev/null; get "/spawn?n=20000" >/dev/null    # warm-up
fiber=$(rate "$(get '/fiber?n=200000')")
spawn=$(rate "$(get '/spawn?n=200000')")
fsw=$(rate "$(get '/fiber-switch?n=1000000')")
csw=$(rate "$(get '/switch?n=1000000')")
sleepers=$(get '/sleepers?n=100000')
late=$(get '/lateness?n=1000')
python3 - "$fiber" "$spawn" "$fsw" "$csw" "$sleepers" "$late" <<'PY'
import json, sys
fiber, spawn, fsw, csw = map(int, sys.argv[1:5])
s, l = json.loads(sys.argv[5]), json.loads(sys.argv[6])
print(f"spawn+await        {spawn:>10,}/s   raw Fiber start/resume {fiber:>10,}/s   ratio {spawn/fiber:.2f} (goal >= 0.5)")
print(f"coroutine switch   {csw:>10,}/s   raw Fiber resume       {fsw:>10,}/s   ratio {csw/fsw:.2f}")
print(f"100k in delay():   completed {s['completed']:,}/{s['n']:,}; per suspended coroutine: "
      f"{s['zend_bytes_per_coroutine']/1024:.1f} KiB Zend heap, {s['rss_bytes_per_coroutine']/1024:.1f} KiB RSS (goal < 16 KiB)")
print(f"delay(10) x 1000:  lateness p50 {l['p50_ms']} ms, p99 {l['p99_ms']} ms, max {l['max_ms']} ms over {l['samples']} samples (goal p99 < 2 ms)")
PY
