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
[ -f "$MODULE" ] || { log "$MODULE missing; run 'make module' first"; exit 1; }
for p in wrk php8.2-fpm php-symfony-http-kernel php-symfony-routing; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
    log "installing $p"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >&2; }
done
systemctl stop php8.2-fpm >/dev/null 2>&1 || true
rm -rf "$OUT/httpd" "$OUT/prefork" "$OUT/fpm"; mkdir -p "$OUT/modphp"
if [ ! -f "$OUT/modphp/usr/lib/apache2/modules/libphp8.2.so" ]; then
  (cd "$OUT/modphp" && apt-get download -qq libapache2-mod-php8.2 >&2 && dpkg-deb -x libapache2-mod-php8.2_*.deb .)
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
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

ticks_of() {  # utime+stime (ticks) of these pids and their children
  local t=0 p f
  for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
    f=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f; t=$((t + ${12} + ${13}))
  done
  echo $t
}
results=$OUT/results.txt; : > "$results"
measure() {  # label url pids...
  local label=$1 url=$2; shift 2
  local body; body=$(curl -s --max-time 10 "$url")
  case "$body" in "Hello x"|ok) ;; *) log "$label: unexpected answer '$body'"; exit 1 ;; esac
  wrk -t2 -c"$CONNS" -d3s "$url" >/dev/null 2>&1 || true
  local t0 t1 out; t0=$(ticks_of "$@")
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s "$url")
  t1=$(ticks_of "$@")
  echo "$out" > "$OUT/wrk-${label// /_}.txt"
  echo "$out" | awk -v l="$label" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    /^Requests\/sec:/ { rps = $2 } / requests in / { n = $1 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    END { printf "%s|%.0f|%.1f|%d\n", l, rps, (n > 0 ? ticks * 1e6 / hz / n : 0), bad }' >> "$results"
}
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null --max-time 2 "$1" && return 0; sleep 0.2; done; log "$1 does not answer"; exit 1; }

# 1. mod_trueasync
web=$(free_port)
cat > "$OUT/module.conf" <<CONF
LoadModule trueasync_module $MODULE
CoreDumpDirectory /tmp
TrueAsyncWorker $ROOT/bench/symfony_worker.php
TrueAsyncThreads 2
TrueAsyncBufferSize $CONNS
TrueAsyncMaxConcurrency $MODCONC
<Location />
    SetHandler trueasync-worker
</Location>
CONF
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/module.conf" -a off -t $((CONNS + 64)) \
       -r "$ROOT/bench/symfony_worker.php" "$OUT/httpd" "$web")
/usr/sbin/apache2 -f "$conf" -k start
wait_up "http://127.0.0.1:$web/hello/x"
ppid=$(cat "$OUT/httpd/httpd.pid")
measure "mod_trueasync hello" "http://127.0.0.1:$web/hello/x" "$ppid"
measure "mod_trueasync upstream" "http://127.0.0.1:$web/upstream?up=$up" "$ppid"
/usr/sbin/apache2 -f "$conf" -k stop; sleep 1

# 2. mod_php, prefork
web=$(free_port); mkdir -p "$OUT/prefork"
user=www-data
cat > "$OUT/prefork/httpd.conf" <<CONF
ServerRoot "$OUT/prefork"
PidFile "$OUT/prefork/httpd.pid"
DefaultRuntimeDir "$OUT/prefork"
Mutex default:$OUT/prefork
Listen 127.0.0.1:$web
ServerName 127.0.0.1
User $user
Group $user
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
LoadModule php_module $OUT/modphp/usr/lib/apache2/modules/libphp8.2.so
PHPIniDir "$OUT/phpini"
StartServers $CONNS
MinSpareServers $CONNS
MaxSpareServers $CONNS
ServerLimit $CONNS
MaxRequestWorkers $CONNS
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
ErrorLog "$OUT/prefork/error_log"
TypesConfig /etc/mime.types
DocumentRoot "$ROOT/bench"
<Directory "$ROOT/bench">
    AllowOverride None
    Require all granted
    RewriteEngine On
    RewriteRule ^ symfony_front.php [L]
</Directory>
<Files "symfony_front.php">
    SetHandler application/x-httpd-php
</Files>
CONF
/usr/sbin/apache2 -f "$OUT/prefork/httpd.conf" -k start
wait_up "http://127.0.0.1:$web/hello/x"
ppid=$(cat "$OUT/prefork/httpd.pid")
measure "mod_php hello" "http://127.0.0.1:$web/hello/x" "$ppid"
measure "mod_php upstream" "http://127.0.0.1:$web/upstream?up=$up" "$ppid"
/usr/sbin/apache2 -f "$OUT/prefork/httpd.conf" -k stop; sleep 1

# 3. php-fpm behind mod_proxy_fcgi
web=$(free_port) fpm=$(free_port); mkdir -p "$OUT/fpm"
cat > "$OUT/fpm/fpm.conf" <<FPM
[global]
error_log = $OUT/fpm/fpm.log
[www]
listen = 127.0.0.1:$fpm
user = $user
group = $user
pm = static
pm.max_children = $CONNS
FPM
/usr/sbin/php-fpm8.2 -n -c "$ini" -y "$OUT/fpm/fpm.conf" -F > "$OUT/fpm/fpm.out" 2>&1 & fpm_pid=$!; pids+=($fpm_pid)
cat > "$OUT/fpm.conf" <<CONF
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
<Directory "$ROOT/bench">
    AllowOverride None
    Require all granted
    RewriteEngine On
    RewriteRule ^ symfony_front.php [L]
</Directory>
<Proxy "fcgi://127.0.0.1:$fpm" enablereuse=on max=$CONNS>
</Proxy>
<Files "symfony_front.php">
    SetHandler "proxy:fcgi://127.0.0.1:$fpm"
</Files>
DocumentRoot "$ROOT/bench"
CONF
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/fpm.conf" -a off -t $((CONNS + 64)) "$OUT/fpmhttpd" "$web")
/usr/sbin/apache2 -f "$conf" -k start
wait_up "http://127.0.0.1:$web/hello/x"
ppid=$(cat "$OUT/fpmhttpd/httpd.pid")
measure "php-fpm hello" "http://127.0.0.1:$web/hello/x" "$ppid" "$fpm_pid"
measure "php-fpm upstream" "http://127.0.0.1:$web/upstream?up=$up" "$ppid" "$fpm_pid"
/usr/sbin/apache2 -f "$conf" -k stop

echo "Symfony 5.4 app, wrk 2 threads, $CONNS connections, ${SECS} s, $(nproc) CPUs"
printf '%-26s %12s %16s %8s\n' "" "requests/s" "server µs/req" "non-2xx"
awk -F'|' '{ printf "%-26s %12s %16s %8s\n", $1, $2, $3, $4 }' "$results"
for route in hello upstream; do
  awk -F'|' -v r=$route '$1 ~ r { split($1, a, " "); rps[a[1]] = $2; cpu[a[1]] = $3 }
    END { for (o in rps) if (o != "mod_trueasync") printf "%s: mod_trueasync/%s %.2fx requests/s, %.2fx server CPU per request\n",
          r, o, rps["mod_trueasync"] / rps[o], cpu["mod_trueasync"] / cpu[o] }' "$results"
done
