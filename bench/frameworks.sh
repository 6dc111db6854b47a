#!/usr/bin/env bash
# One Symfony 5.4 application (Debian's packages, bench/symfony_kernel.php)
# served three ways in one run, 64 connections each, on loopback:
#   mod_trueasync, 2 PHP threads, FrankenPHP's worker loop (one Apache child)
#   Debian's mod_php under prefork (64 processes)
#   Debian's php-fpm (64 children, static) behind mod_proxy_fcgi (event MPM)
# for /hello/x (computes only) and /upstream (waits 20 ms on a local
# upstream). Prints requests/s and server CPU µs per request (utime+stime
# of every process of that server, fpm's included), and the ratios.
# mod_php is unpacked from its .deb under build/ (never installed: it would
# switch the system's Apache to prefork).
#   bench/frameworks.sh      (BENCH_SECONDS 10, BENCH_CONNECTIONS 64)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/frameworks
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
MODULE=${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}
# bench_handle() makes its kernel per request, so its loop may run requests
# at once: the admin's choice (TrueAsyncMaxConcurrency). auto runs one at a
# time per thread, FrankenPHP's contract.
MODCONC=${BENCH_MODULE_CONCURRENCY:-$CONNS}
log() { echo "frameworks: $*" >&2; }
. "$ROOT/bench/lib.sh"
[ -f "$MODULE" ] || { log "$MODULE missing; run 'make module' first"; exit 1; }
need_pkgs wrk php8.2-fpm php-symfony-http-kernel php-symfony-routing
systemctl stop php8.2-fpm >/dev/null 2>&1 || true
rm -rf "$OUT/httpd" "$OUT/prefork" "$OUT/fpm"; mkdir -p "$OUT"
cc -std=gnu11 -O2 -Wall -Wextra -o "$OUT/upstream" "$ROOT/bench/upstream.c" -luv
up=$(free_port)
pids=() roots=()
cleanup() {
  for c in "$OUT"/*/httpd.conf; do [ -f "$c" ] && /usr/sbin/apache2 -f "$c" -k stop >/dev/null 2>&1 || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
"$OUT/upstream" "$up" 20 & pids+=($!)

# PHP settings for mod_php and fpm: opcache on, the extensions Symfony uses.
ini=$OUT/php.ini
{
  echo "zend_extension=opcache.so"; echo "opcache.enable=1"; echo "opcache.enable_cli=0"
  echo "opcache.validate_timestamps=0"; echo "display_errors=0"; echo "log_errors=1"; echo "expose_php=1"
  for e in ctype mbstring iconv tokenizer fileinfo posix; do
    [ -f "/usr/lib/php/20220829/$e.so" ] && echo "extension=$e.so"
  done
} > "$ini"
mkdir -p "$OUT/phpini"; cp "$ini" "$OUT/phpini/php.ini"

results=$OUT/results.txt; : > "$results"
check_measure() {  # label url pids...: the answer is right, then measure
  local body; body=$(curl -s --max-time 10 "$2")
  case "$body" in "Hello x"|ok) ;; *) log "$1: unexpected answer '$body'"; exit 1 ;; esac
  measure "$@"
}

# 1. mod_trueasync
web=$(free_port)
conf=$(module_conf "$OUT/httpd" "$web" "$ROOT/bench/symfony_worker.php" 2 "$CONNS" $((CONNS + 64)) <<CONF
CoreDumpDirectory /tmp
TrueAsyncMaxConcurrency $MODCONC
CONF
)
/usr/sbin/apache2 -f "$conf" -k start
wait_up "http://127.0.0.1:$web/hello/x"
ppid=$(cat "$OUT/httpd/httpd.pid")
check_measure "mod_trueasync hello" "http://127.0.0.1:$web/hello/x" "$ppid"
check_measure "mod_trueasync upstream" "http://127.0.0.1:$web/upstream?up=$up" "$ppid"
/usr/sbin/apache2 -f "$conf" -k stop; sleep 1

# 2. mod_php, prefork
web=$(free_port)
prefork_conf "$OUT/prefork" "$web" "$OUT/phpini" >/dev/null <<CONF
$(front_dir symfony_front.php)
<Files "symfony_front.php">
    SetHandler application/x-httpd-php
</Files>
CONF
/usr/sbin/apache2 -f "$OUT/prefork/httpd.conf" -k start
wait_up "http://127.0.0.1:$web/hello/x"
ppid=$(cat "$OUT/prefork/httpd.pid")
check_measure "mod_php hello" "http://127.0.0.1:$web/hello/x" "$ppid"
check_measure "mod_php upstream" "http://127.0.0.1:$web/upstream?up=$up" "$ppid"
/usr/sbin/apache2 -f "$OUT/prefork/httpd.conf" -k stop; sleep 1

# 3. php-fpm behind mod_proxy_fcgi
web=$(free_port) fpm=$(free_port); mkdir -p "$OUT/fpm"
fpm_conf "$OUT/fpm/fpm.conf" "$fpm" "$CONNS" < /dev/null
/usr/sbin/php-fpm8.2 -n -c "$ini" -y "$OUT/fpm/fpm.conf" -F > "$OUT/fpm/fpm.out" 2>&1 & fpm_pid=$!; pids+=($fpm_pid)
proxy_fcgi_conf "$OUT/fpm.conf" "$fpm" symfony_front.php
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/fpm.conf" -a off -t $((CONNS + 64)) "$OUT/fpmhttpd" "$web")
/usr/sbin/apache2 -f "$conf" -k start
wait_up "http://127.0.0.1:$web/hello/x"
ppid=$(cat "$OUT/fpmhttpd/httpd.pid")
check_measure "php-fpm hello" "http://127.0.0.1:$web/hello/x" "$ppid" "$fpm_pid"
check_measure "php-fpm upstream" "http://127.0.0.1:$web/upstream?up=$up" "$ppid" "$fpm_pid"
/usr/sbin/apache2 -f "$conf" -k stop

echo "Symfony 5.4 app, wrk 2 threads, $CONNS connections, ${SECS} s, $(nproc) CPUs"
printf '%-26s %12s %16s %8s\n' "" "requests/s" "server µs/req" "non-2xx"
awk -F'|' '{ printf "%-26s %12s %16s %8s\n", $1, $2, $3, $5 }' "$results"
for route in hello upstream; do
  awk -F'|' -v r=$route '$1 ~ r { split($1, a, " "); rps[a[1]] = $2; cpu[a[1]] = $3 }
    END { for (o in rps) if (o != "mod_trueasync") printf "%s: mod_trueasync/%s %.2fx requests/s, %.2fx server CPU per request\n",
          r, o, rps["mod_trueasync"] / rps[o], cpu["mod_trueasync"] / cpu[o] }' "$results"
done
