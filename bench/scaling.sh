#!/usr/bin/env bash
# TrueAsyncThreads MIN MAX against fixed thread counts and php-fpm's
# pm = dynamic (issue 23), in one run: the Symfony 5.4 application of
# bench/frameworks.sh on /upstream (waits 20 ms on a local upstream), as
# FrankenPHP's worker loop with its contract (one request at a time per
# thread: TrueAsyncMaxConcurrency auto), 64 connections:
#   mod_trueasync TrueAsyncThreads 2 32 (idle timeout 10 s, the default)
#   mod_trueasync TrueAsyncThreads 2
#   mod_trueasync TrueAsyncThreads 32
#   php-fpm pm = dynamic, max_children 32, behind mod_proxy_fcgi
# Prints requests/s, p99 latency, and the memory of the server's PHP
# processes (the Apache child; fpm's master and children) under load and
# after 30 s idle: RSS, and PSS (shared pages split between processes, the
# fair sum for fpm's many processes).
#   bench/scaling.sh       (BENCH_SECONDS 10, BENCH_CONNECTIONS 64, BENCH_IDLE 30)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/scaling
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
IDLE=${BENCH_IDLE:-30}
MODULE=${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}
log() { echo "scaling: $*" >&2; }
. "$ROOT/bench/lib.sh"
[ -f "$MODULE" ] || { log "$MODULE missing; run 'make module' first"; exit 1; }
need_pkgs wrk php8.2-fpm php-symfony-http-kernel php-symfony-routing
systemctl stop php8.2-fpm >/dev/null 2>&1 || true
rm -rf "$OUT"; mkdir -p "$OUT"
cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/upstream" "$ROOT/bench/upstream.c" -luv
up=$(free_port)
pids=()
cleanup() {
  for c in "$OUT"/*/httpd.conf; do [ -f "$c" ] && /usr/sbin/apache2 -f "$c" -k stop >/dev/null 2>&1 || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$OUT/upstream" "$up" 20 & pids+=($!)

ini=$OUT/php.ini
{
  echo "zend_extension=opcache.so"; echo "opcache.enable=1"; echo "opcache.enable_cli=0"
  echo "opcache.validate_timestamps=0"; echo "display_errors=0"; echo "log_errors=1"
  for e in ctype mbstring iconv tokenizer fileinfo posix; do
    [ -f "/usr/lib/php/20220829/$e.so" ] && echo "extension=$e.so"
  done
} > "$ini"

# kB of RSS and PSS summed over these pids and their children
mem_of() {
  local rss=0 pss=0 p r s
  for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
    r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
    s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || s=0
    rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0}))
  done
  echo "$rss $pss"
}
results=$OUT/results.txt; : > "$results"
measure_mem() {  # label url pids... (the processes whose memory counts)
  local label=$1 url=$2; shift 2
  local body; body=$(curl -s --max-time 10 "$url")
  [ "$body" = ok ] || { log "$label: unexpected answer '$body'"; exit 1; }
  wrk -t2 -c"$CONNS" -d3s "$url" >/dev/null 2>&1 || true
  local out; out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s --latency "$url")
  local busy; busy=$(mem_of "$@")
  echo "$out" > "$OUT/wrk-${label// /_}.txt"
  sleep "$IDLE"
  local idle; idle=$(mem_of "$@")
  echo "$out" | awk -v l="$label" -v busy="$busy" -v idle="$idle" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^Requests\/sec:/ { rps = $2 } /^ +99%/ { p99 = ms($2) } /Non-2xx or 3xx responses:/ { bad = $NF }
    END { split(busy, b, " "); split(idle, i, " ");
          printf "%s|%.0f|%.1f|%d|%.1f|%.1f|%.1f|%.1f\n", l, rps, p99, bad, b[1] / 1024, b[2] / 1024, i[1] / 1024, i[2] / 1024 }' >> "$results"
}
# the Apache children of a parent (the parent holds no PHP thread)
kids() { pgrep -P "$1" | tr '\n' ' '; }

# mod_trueasync, one child, TrueAsyncThreads as given
trueasync() {
  local label=$1 threads=$2 web; web=$(free_port)
  local dir=$OUT/ta-${threads// /-}
  mkdir -p "$dir"
  local conf; conf=$(module_conf "$dir" "$web" "$ROOT/bench/symfony_worker.php" "$threads" "$CONNS" $((CONNS + 64)) < /dev/null)
  /usr/sbin/apache2 -f "$conf" -k start
  wait_up "http://127.0.0.1:$web/hello/x"
  local ppid; ppid=$(cat "$dir/httpd.pid")
  # shellcheck disable=SC2046
  measure_mem "$label" "http://127.0.0.1:$web/upstream?up=$up" $(kids "$ppid")
  /usr/sbin/apache2 -f "$conf" -k stop; sleep 2
}
trueasync "TrueAsyncThreads 2 32" "2 32"
trueasync "TrueAsyncThreads 2" "2"
trueasync "TrueAsyncThreads 32" "32"

# php-fpm, pm = dynamic, behind mod_proxy_fcgi
web=$(free_port) fpm=$(free_port); mkdir -p "$OUT/fpm"
cat > "$OUT/fpm/fpm.conf" <<FPM
[global]
error_log = $OUT/fpm/fpm.log
[www]
listen = 127.0.0.1:$fpm
user = www-data
group = www-data
pm = dynamic
pm.max_children = 32
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
FPM
/usr/sbin/php-fpm8.2 -n -c "$ini" -y "$OUT/fpm/fpm.conf" -F > "$OUT/fpm/fpm.out" 2>&1 & fpm_pid=$!; pids+=($fpm_pid)
proxy_fcgi_conf "$OUT/fpm.conf" "$fpm" symfony_front.php
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/fpm.conf" -a off -t $((CONNS + 64)) "$OUT/fpmhttpd" "$web")
/usr/sbin/apache2 -f "$conf" -k start
wait_up "http://127.0.0.1:$web/hello/x"
measure_mem "php-fpm dynamic 32" "http://127.0.0.1:$web/upstream?up=$up" "$fpm_pid"
/usr/sbin/apache2 -f "$conf" -k stop

echo "Symfony 5.4 app, /upstream (20 ms), wrk 2 threads, $CONNS connections, ${SECS} s, $(nproc) CPUs; memory of the PHP processes"
printf '%-24s %10s %9s %7s %15s %15s\n' "" "requests/s" "p99 ms" "non-2xx" "MiB RSS/PSS load" "RSS/PSS ${IDLE}s idle"
awk -F'|' '{ printf "%-24s %10s %9s %7s %7s/%-7s %7s/%-7s\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$results"
