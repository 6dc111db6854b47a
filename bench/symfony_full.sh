#!/usr/bin/env bash
# Issue 18. The full-stack Symfony 5.4 application of t/php/symfony_full/
# (FrameworkBundle, TwigBundle, DBAL, sessions; Debian's packages) served
# three ways in one run, BENCH_CONNECTIONS (64) connections each, loopback:
#   Debian's php-fpm (64 children, static) behind mod_proxy_fcgi (event MPM)
#   Debian's mod_php under prefork (64 processes)
#   mod_trueasync, the frankenphp_handle_request() loop of
#     t/php/symfony_full.php, with as many PHP threads as fit in the memory
#     php-fpm's children used (measured: one module child at 2 and at 8
#     threads gives the cost of a thread)
# for /page (renders a Twig template) and /query (SELECT SLEEP(0.005) on
# MariaDB through DBAL). Prints requests/s, server CPU µs per request
# (utime+stime of every process of that server, fpm's included) and the
# servers' RSS after the run. Then TrueAsync's PDO pool: one short query
# per request on an onRequest worker (bench/pdo_pool_worker.php), a PDO
# made at boot with the pool against a new connection per request (and one
# PDO shared without the pool); the pool needs a build that has it.
# A private MariaDB in build/; mod_php unpacked from its .deb, never
# installed.   bench/symfony_full.sh   (BENCH_SECONDS 10)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/symfony_full
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
MODULE=${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}
APP=$ROOT/t/php/symfony_full
log() { echo "symfony_full: $*" >&2; }
. "$ROOT/bench/lib.sh"
[ -f "$MODULE" ] || { log "$MODULE missing; run 'make module' first"; exit 1; }
need_pkgs wrk php8.2-fpm php8.2-mysql mariadb-server php-symfony-framework-bundle php-symfony-twig-bundle \
         php-symfony-security-core php-doctrine-dbal
systemctl stop php8.2-fpm >/dev/null 2>&1 || true
rm -rf "$OUT/httpd" "$OUT/prefork" "$OUT/fpm" "$OUT/fpmhttpd" "$OUT/pool" "$OUT/mariadb" "$OUT"/cache-*
mkdir -p "$OUT/fpm" "$OUT/mariadb"
user=www-data
pids=()
cleanup() {
  for c in "$OUT"/*/httpd.conf; do [ -f "$c" ] && /usr/sbin/apache2 -f "$c" -k stop >/dev/null 2>&1 || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# MariaDB, private: fresh data directory, loopback port, no grant tables
db=$OUT/mariadb
mariadb-install-db --no-defaults --user=mysql --datadir="$db/data" --auth-root-authentication-method=normal \
  --skip-test-db > "$db/install.log" 2>&1
chown -R mysql "$db"
export TA_MARIADB_PORT; TA_MARIADB_PORT=$(free_port)
/usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$db/data" --socket="$db/sock" --port="$TA_MARIADB_PORT" \
  --bind-address=127.0.0.1 --skip-grant-tables --pid-file="$db/pid" --max-connections=2000 --skip-log-bin \
  --innodb-buffer-pool-size=64M > "$db/server.log" 2>&1 & pids+=($!)
for _ in $(seq 150); do mariadb --no-defaults -h127.0.0.1 -P"$TA_MARIADB_PORT" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
mariadb --no-defaults -h127.0.0.1 -P"$TA_MARIADB_PORT" -uroot -e 'CREATE DATABASE ta_sf;
  CREATE TABLE ta_sf.visits (id INT AUTO_INCREMENT PRIMARY KEY, user VARCHAR(40) NOT NULL, tag VARCHAR(40) NOT NULL)'

# the kernel's cache, one per server, writable by Apache's and fpm's User
cache_for() { local d=$OUT/cache-$1; mkdir -p "$d"; chown "$user" "$d"; echo "$d"; }

# PHP settings for mod_php and fpm: opcache on, the extensions Symfony uses
ini=$OUT/php.ini
{
  echo "zend_extension=opcache.so"; echo "opcache.enable=1"; echo "opcache.enable_cli=0"
  echo "opcache.validate_timestamps=0"; echo "opcache.memory_consumption=128"
  echo "display_errors=0"; echo "log_errors=1"; echo "memory_limit=256M"
  for e in ctype mbstring iconv tokenizer fileinfo posix xml dom simplexml pdo pdo_mysql mysqlnd; do
    [ -f "/usr/lib/php/20220829/$e.so" ] && echo "extension=$e.so"
  done
} | awk '/extension=(pdo_mysql)/ { later = later $0 "\n"; next } { print } END { printf "%s", later }' > "$ini"
mkdir -p "$OUT/phpini"; cp "$ini" "$OUT/phpini/php.ini"

results=$OUT/results.txt; : > "$results"
check() {  # url expected-substring
  local body; body=$(curl -s --max-time 20 "$1" || true)
  case "$body" in *"$2"*) ;; *) log "$1: unexpected answer '${body:0:300}'"; exit 1 ;; esac
}
# 1. php-fpm behind mod_proxy_fcgi
web=$(free_port) fpm=$(free_port)
fpm_conf "$OUT/fpm/fpm.conf" "$fpm" "$CONNS" <<FPM
env[TA_MARIADB_PORT] = $TA_MARIADB_PORT
env[TA_SF_CACHE] = $(cache_for fpm)
FPM
PHP_INI_SCAN_DIR= /usr/sbin/php-fpm8.2 -c "$ini" -y "$OUT/fpm/fpm.conf" -F > "$OUT/fpm/fpm.out" 2>&1 & fpm_pid=$!; pids+=($fpm_pid)
proxy_fcgi_conf "$OUT/fpm.conf" "$fpm" symfony_full_front.php
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/fpm.conf" -a off -t $((CONNS + 64)) "$OUT/fpmhttpd" "$web")
/usr/sbin/apache2 -f "$conf" -k start
wait_up "http://127.0.0.1:$web/page"
check "http://127.0.0.1:$web/page" 'item 20'; check "http://127.0.0.1:$web/query" 'slept 0'
ppid=$(cat "$OUT/fpmhttpd/httpd.pid")
measure "php-fpm page" "http://127.0.0.1:$web/page" "$ppid" "$fpm_pid"
measure "php-fpm query" "http://127.0.0.1:$web/query" "$ppid" "$fpm_pid"
fpm_rss=$(rss_of "$fpm_pid")
/usr/sbin/apache2 -f "$conf" -k stop; kill "$fpm_pid"; wait "$fpm_pid" 2>/dev/null || true; sleep 1

# 2. mod_php, prefork
web=$(free_port)
export TA_SF_CACHE; TA_SF_CACHE=$(cache_for prefork)
prefork_conf "$OUT/prefork" "$web" "$OUT/phpini" >/dev/null <<CONF
$(front_dir symfony_full_front.php)
<Files "symfony_full_front.php">
    SetHandler application/x-httpd-php
</Files>
CONF
/usr/sbin/apache2 -f "$OUT/prefork/httpd.conf" -k start
wait_up "http://127.0.0.1:$web/page"
check "http://127.0.0.1:$web/page" 'item 20'; check "http://127.0.0.1:$web/query" 'slept 0'
ppid=$(cat "$OUT/prefork/httpd.pid")
measure "mod_php page" "http://127.0.0.1:$web/page" "$ppid"
measure "mod_php query" "http://127.0.0.1:$web/query" "$ppid"
/usr/sbin/apache2 -f "$OUT/prefork/httpd.conf" -k stop; sleep 1

# 3. mod_trueasync: learn what a PHP thread costs, then as many as fit
TA_SF_CACHE=$(cache_for module)
module_start() {  # threads
  web=$(free_port)
  # queues that ThreadsPerChild can hold (TA00953)
  local buffer=$(( (CONNS + 64) / $1 )); [ "$buffer" -ge 2 ] || buffer=2; [ "$buffer" -le "$CONNS" ] || buffer=$CONNS
  conf=$(module_conf "$OUT/httpd" "$web" "$APP/../symfony_full.php" "$1" "$buffer" $((CONNS + 64)) <<< "CoreDumpDirectory /tmp")
  /usr/sbin/apache2 -f "$conf" -k start
  wait_up "http://127.0.0.1:$web/page"
  ppid=$(cat "$OUT/httpd/httpd.pid")
}
module_stop() { /usr/sbin/apache2 -f "$conf" -k stop; for _ in $(seq 50); do kill -0 "$ppid" 2>/dev/null || break; sleep 0.2; done; }
warm_rss() {
  wrk -t2 -c"$CONNS" -d3s "http://127.0.0.1:$web/page" >/dev/null 2>&1 || true
  wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$web/query" >/dev/null 2>&1 || true
  rss_of "$ppid"
}
module_start 2; r2=$(warm_rss); module_stop
module_start 8; r8=$(warm_rss); module_stop
# a thread's cost can be below what RSS shows (then: as many as connections)
per_thread=$(( (r8 - r2) / 6 )); [ "$per_thread" -gt 0 ] || per_thread=1
threads=$(( (fpm_rss - (r2 - 2 * per_thread)) / per_thread ))
[ "$threads" -ge 2 ] || threads=2
[ "$threads" -le "$CONNS" ] || threads=$CONNS
echo "module RSS at 2 threads ${r2} KiB, at 8 threads ${r8} KiB; php-fpm ${fpm_rss} KiB -> $threads threads" > "$OUT/sizing.txt"
module_start "$threads"
check "http://127.0.0.1:$web/page" 'item 20'; check "http://127.0.0.1:$web/query" 'slept 0'
measure "mod_trueasync page" "http://127.0.0.1:$web/page" "$ppid"
measure "mod_trueasync query" "http://127.0.0.1:$web/query" "$ppid"
module_stop

# 4. the PDO pool (an onRequest worker, 2 PHP threads)
web=$(free_port)
conf=$(module_conf "$OUT/pool" "$web" "$ROOT/bench/pdo_pool_worker.php" 2 "$CONNS" $((CONNS + 64)) < /dev/null)
/usr/sbin/apache2 -f "$conf" -k start
wait_up "http://127.0.0.1:$web/info"
ppid=$(cat "$OUT/pool/httpd.pid")
has_pool=$(curl -s "http://127.0.0.1:$web/info")
for v in new shared pool; do
  [ "$v" = new ] || [ "$has_pool" = pool ] || continue
  check "http://127.0.0.1:$web/$v" 'one=1'
  measure "pdo $v" "http://127.0.0.1:$web/$v" "$ppid"
done
/usr/sbin/apache2 -f "$conf" -k stop

echo "Symfony 5.4 full stack (Twig, DBAL, sessions), wrk 2 threads, $CONNS connections, ${SECS} s, $(nproc) CPUs"
echo "mod_trueasync: $threads PHP threads (at most $CONNS): $(cat "$OUT/sizing.txt")"
printf '%-22s %11s %14s %9s %8s  %s\n' "" "requests/s" "server µs/req" "RSS MiB" "non-2xx" "socket errors"
awk -F'|' '{ printf "%-22s %11s %14s %9s %8s  %s\n", $1, $2, $3, $4, $5, $6 }' "$results"
for route in page query; do
  awk -F'|' -v r=$route '$1 ~ r && $1 !~ /^pdo/ { split($1, a, " "); rps[a[1]] = $2; cpu[a[1]] = $3 }
    END { for (o in rps) if (o != "mod_trueasync" && rps[o] > 0 && cpu[o] > 0)
            printf "/%s: mod_trueasync/%s %.2fx requests/s, %.2fx server CPU per request\n",
                   r, o, rps["mod_trueasync"] / rps[o], cpu["mod_trueasync"] / cpu[o] }' "$results"
done
[ "$has_pool" = pool ] || echo "PDO pool: this build has no PDO::ATTR_POOL_ENABLED (only /new measured)"
awk -F'|' '$1 == "pdo pool" { p = $2 } $1 == "pdo new" { n = $2 }
  END { if (p > 0 && n > 0) printf "PDO: pool on one shared handle / new connection per request %.2fx requests/s\n", p / n }' "$results"
