#!/usr/bin/env bash
# I/O-bound workload: each request waits 20 ms on a local upstream, 256
# connections, 2 PHP threads. Two ways to reach the upstream: a new
# connection per request through file_get_contents('http://...'), and a
# kept-alive connection from a pool (as workers keep database connections).
# Compared in the same run with the ideal (connections / latency), with
# Apache serving a small static file at the same concurrency (what this
# Apache does at all on this machine), and with Debian's php8.2-fpm behind
# mod_proxy_fcgi on the same Apache, with as many fpm children as fit in
# the memory the module's Apache child used.
# Loopback only; stops everything it started.   bench/io.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/io
SECONDS_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-256}
DELAY_MS=20
mkdir -p "$OUT"
# BENCH_MODULE: another build's .so, to compare builds in the same harness.
MODULE=${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}
[ -f "$MODULE" ] || { echo "io: $MODULE missing; run 'make module' first" >&2; exit 1; }
for p in wrk php8.2-fpm; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
    echo "io: installing $p" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >&2; }
done
systemctl stop php8.2-fpm >/dev/null 2>&1 || true
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/upstream" "$ROOT/bench/upstream.c" -luv

up=$(free_port) web=$(free_port) fpm=$(free_port)
pids=()
cleanup() {
  [ -n "${conf:-}" ] && /usr/sbin/apache2 -f "$conf" -k stop >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$OUT/upstream" "$up" "$DELAY_MS" & pids+=($!)

cat > "$OUT/io.conf" <<CONF
LoadModule trueasync_module $MODULE
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so
TrueAsyncWorker $ROOT/bench/io_worker.php
TrueAsyncThreads 2
TrueAsyncBufferSize $(( CONNS / 2 + 16 ))
<LocationMatch "^/io">
    SetHandler trueasync-worker
</LocationMatch>
<Location /fpm>
    SetHandler "proxy:fcgi://127.0.0.1:$fpm"
</Location>
ProxyFCGIBackendType GENERIC
ProxyPass /fpm fcgi://127.0.0.1:$fpm$ROOT/bench/io_fpm.php enablereuse=on max=$CONNS
CONF
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/io.conf" -a off -t $(( CONNS + 64 )) \
        -r "$ROOT/bench/io_worker.php" -r "$ROOT/bench/io_fpm.php" "$OUT/httpd" "$web")
/usr/sbin/apache2 -f "$conf" -k start
for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$web/io?up=$up" && break; sleep 0.1; done
[ "$(curl -s "http://127.0.0.1:$web/io?up=$up")" = ok ] || { echo "io: module endpoint broken" >&2; exit 1; }

run_wrk() {  # url label
  wrk -t2 -c"$CONNS" -d3s "$1" >/dev/null 2>&1 || true
  wrk -t2 -c"$CONNS" -d"${SECONDS_RUN}s" --latency --timeout 10s "$1" > "$OUT/wrk-$2.txt" 2>&1
}
rss_of_children() {  # total VmRSS (KiB) of the Apache children
  local sum=0 ppid
  ppid=$(cat "$OUT/httpd/httpd.pid")
  for c in $(pgrep -P "$ppid"); do sum=$(( sum + $(awk '/VmRSS/{print $2}' /proc/$c/status) )); done
  echo "$sum"
}

printf 'ok' > "$OUT/httpd/htdocs/ok.txt"
run_wrk "http://127.0.0.1:$web/ok.txt" static
run_wrk "http://127.0.0.1:$web/io?up=$up" module
run_wrk "http://127.0.0.1:$web/io-pool?up=$up" module-pool
module_rss=$(rss_of_children)

# php-fpm: one child first, to learn what a child costs, then as many as fit.
fpm_conf() {  # children
  cat > "$OUT/fpm.conf" <<FPM
[global]
error_log = $OUT/fpm.log
daemonize = no
[bench]
listen = 127.0.0.1:$fpm
pm = static
pm.max_children = $1
user = $(stat -c %U "$ROOT/bench/io_fpm.php" | sed 's/^root$/www-data/')
group = $(id -gn "$(stat -c %U "$ROOT/bench/io_fpm.php" | sed 's/^root$/www-data/')")
FPM
}
start_fpm() {
  fpm_conf "$1"
  /usr/sbin/php-fpm8.2 -n -d opcache.enable=1 -d zend_extension=opcache.so -y "$OUT/fpm.conf" -F > "$OUT/fpm.out" 2>&1 &
  fpm_pid=$!
  for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$web/fpm?up=$up" && break; sleep 0.1; done
}
start_fpm 1
for i in $(seq 20); do curl -s -o /dev/null "http://127.0.0.1:$web/fpm?up=$up"; done
child=$(pgrep -P "$fpm_pid" | head -1)
fpm_child_rss=$(awk '/VmRSS/{print $2}' /proc/$child/status)
kill "$fpm_pid"; wait "$fpm_pid" 2>/dev/null || true
children=$(( module_rss / fpm_child_rss ))
[ "$children" -ge 1 ] || children=1
start_fpm "$children"
pids+=("$fpm_pid")
[ "$(curl -s "http://127.0.0.1:$web/fpm?up=$up")" = ok ] || { echo "io: fpm endpoint broken" >&2; exit 1; }
run_wrk "http://127.0.0.1:$web/fpm?up=$up" fpm
run_wrk "http://127.0.0.1:$web/fpm?up=$up&pool=1" fpm-pool

python3 - "$OUT" "$CONNS" "$DELAY_MS" "$module_rss" "$fpm_child_rss" "$children" <<'PY'
import re, sys
out, conns, delay, mrss, frss, kids = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def parse(name):
    t = open(f"{out}/wrk-{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    p99ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    errs = re.search(r"Socket errors: (.*)", t)
    return rps, p99ms, int(non2xx.group(1)) if non2xx else 0, errs.group(1) if errs else "none"
ideal = conns / (delay / 1000)
st, m, mp, f, fp = parse("static"), parse("module"), parse("module-pool"), parse("fpm"), parse("fpm-pool")
print(f"I/O-bound: each request waits {delay} ms on a local upstream; wrk 2 threads, {conns} connections")
print(f"{'':44}{'requests/s':>12}{'p99 ms':>10}{'non-2xx':>9}  socket errors")
row = lambda label, r: print(f"{label:44}{r[0]:>12.0f}{r[1]:>10.1f}{r[2]:>9}  {r[3]}")
print(f"{'ideal (connections / latency)':44}{ideal:>12.0f}")
row("Apache static file (no PHP, no upstream)", st)
row("mod_trueasync, new connection per request", m)
row("mod_trueasync, kept-alive upstream connections", mp)
row(f"php-fpm ({kids} children), new connection", f)
row(f"php-fpm ({kids} children), kept-alive (pfsockopen)", fp)
print(f"new connection: module / ideal {m[0]/ideal:.2f}, module / static file {m[0]/st[0]:.2f}, module / php-fpm {m[0]/f[0]:.1f}x")
print(f"kept-alive:     module / ideal {mp[0]/ideal:.2f}, module / static file {mp[0]/st[0]:.2f}, module / php-fpm {mp[0]/fp[0]:.1f}x")
print(f"static file / ideal {st[0]/ideal:.2f}: the most this Apache serves on this machine at {conns} connections")
print(f"goals: module >= 0.8 x ideal, >= 10 x php-fpm")
print(f"memory: module's Apache child {mrss/1024:.0f} MiB RSS after the run; one php-fpm child {frss/1024:.1f} MiB -> {kids} children")
PY
