#!/usr/bin/env bash
# Issue 21: an HttpArena-style "async-db" benchmark. Each request reads one
# random row of a 10,000-row PostgreSQL table by its primary key and
# answers it in JSON (bench/async_db_query.php, the same code everywhere).
# Three servers in one run, at each of BENCH_CONNECTIONS ("64 256")
# connections, wrk on loopback:
#   mod_trueasync: 2 PHP threads, HttpServer::onRequest, one PDO per thread
#     made at boot with TrueAsync's pool (bench/async_db_worker.php, at most
#     BENCH_POOL connections per thread), the query waiting on the reactor
#   Debian's php-fpm (php8.2-fpm, php8.2-pgsql) behind mod_proxy_fcgi, a
#     static pool of as many children as fit in the memory the module's
#     Apache child used, persistent connections (bench/async_db_front.php)
#   Debian's mod_php under prefork (unpacked from its .deb, never
#     installed), as many processes as connections, persistent connections
# Prints requests/s, server CPU µs per request (utime+stime of every
# process of that server, fpm's included) and PostgreSQL's CPU µs per
# request apart (postmaster and backends). A private PostgreSQL cluster
# under build/, started and stopped here.
#   bench/async_db.sh     (BENCH_SECONDS 10, BENCH_CONNECTIONS "64 256", BENCH_POOL 16)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/async_db
SECS=${BENCH_SECONDS:-10}
CONN_LIST=${BENCH_CONNECTIONS:-64 256}
POOL=${BENCH_POOL:-16}
MODULE=${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}
log() { echo "async_db: $*" >&2; }
. "$ROOT/bench/lib.sh"
[ -f "$MODULE" ] || { log "$MODULE missing; run 'make module' first"; exit 1; }
need_pkgs wrk postgresql php8.2-fpm php8.2-pgsql
systemctl stop php8.2-fpm >/dev/null 2>&1 || true
rm -rf "$OUT/httpd" "$OUT/prefork" "$OUT/fpm" "$OUT/fpmhttpd"; mkdir -p "$OUT/fpm" "$OUT/phpini"
max_conns=$(tr ' ' '\n' <<< "$CONN_LIST" | sort -n | tail -1)
confs=()
cleanup() {
  for c in "${confs[@]}"; do /usr/sbin/apache2 -f "$c" -k stop >/dev/null 2>&1 || true; done
  [ -z "${fpm_pid:-}" ] || kill "$fpm_pid" 2>/dev/null || true
  pg_stop
  wait 2>/dev/null || true
}
trap cleanup EXIT

# PostgreSQL: the table, 10,000 rows; connections for mod_php's processes,
# fpm's children and the module's pools
PG_MAX_CONNECTIONS=$((max_conns + 2 * POOL + 100)) pg_start "$OUT/pg"
export TA_PG_PORT=$pg_port TA_PG_POOL=$POOL
"${pg_psql[@]}" -c 'CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL);
  INSERT INTO world SELECT i, 1 + floor(random() * 10000)::int FROM generate_series(1, 10000) i; ANALYZE world'

# PHP settings for mod_php and fpm: opcache, PDO with pdo_pgsql
ini=$OUT/phpini/php.ini
{
  echo "zend_extension=opcache.so"; echo "opcache.enable=1"; echo "opcache.enable_cli=0"
  echo "opcache.validate_timestamps=0"; echo "display_errors=0"; echo "log_errors=1"
  echo "extension=pdo.so"; echo "extension=pdo_pgsql.so"
} > "$ini"

results=$OUT/results.txt; : > "$results"
apart_pids=$pg_pid
check() {  # url
  local body; body=$(curl -s --max-time 20 "$1" || true)
  [[ $body =~ ^\{\"id\":[0-9]+,\"randomNumber\":[0-9]+\}$ ]] || { log "$1: unexpected answer '${body:0:300}'"; exit 1; }
}
apache() {  # start|stop conf
  /usr/sbin/apache2 -f "$2" -k "$1"
  if [ "$1" = start ]; then confs+=("$2"); else sleep 1; fi
}

# Apache threads: twice the connections (a warm-up's requests may still be
# on their way out when the measured run's connections come).
# 1. mod_trueasync, one Apache child, 2 PHP threads
module_rss=0
for CONNS in $CONN_LIST; do
  web=$(free_port)
  conf=$(module_conf "$OUT/httpd" "$web" "$ROOT/bench/async_db_worker.php" 2 "$CONNS" $((2 * CONNS + 64)) \
         "$ROOT/bench/async_db_query.php" < /dev/null)
  apache start "$conf"
  wait_up "http://127.0.0.1:$web/"; check "http://127.0.0.1:$web/"
  ppid=$(cat "$OUT/httpd/httpd.pid")
  measure "mod_trueasync $CONNS" "http://127.0.0.1:$web/" "$ppid"
  rss=$(rss_of $(pgrep -P "$ppid")); [ "$rss" -le "$module_rss" ] || module_rss=$rss
  apache stop "$conf"
done

# 2. php-fpm behind mod_proxy_fcgi: one child first, to learn what a child
# costs, then as many as fit in the module's memory
fpm_start() {  # children
  fpm_conf "$OUT/fpm/fpm.conf" "$fpm" "$1" <<< "env[TA_PG_PORT] = $TA_PG_PORT"
  /usr/sbin/php-fpm8.2 -n -c "$ini" -y "$OUT/fpm/fpm.conf" -F > "$OUT/fpm/fpm.out" 2>&1 & fpm_pid=$!
  wait_up "http://127.0.0.1:$web/"
}
fpm_stop() { kill "$fpm_pid"; wait "$fpm_pid" 2>/dev/null || true; fpm_pid=""; }
web=$(free_port) fpm=$(free_port)
CONNS=$max_conns
proxy_fcgi_conf "$OUT/fpm.conf" "$fpm" async_db_front.php
conf=$("$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/fpm.conf" -a off -t $((2 * max_conns + 64)) "$OUT/fpmhttpd" "$web")
apache start "$conf"
fpm_start 1
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$web/"; done
fpm_child_rss=$(rss_of $(pgrep -P "$fpm_pid"))
fpm_stop
children=$(( module_rss / fpm_child_rss )); [ "$children" -ge 1 ] || children=1
fpm_start "$children"; check "http://127.0.0.1:$web/"
ppid=$(cat "$OUT/fpmhttpd/httpd.pid")
for CONNS in $CONN_LIST; do measure "php-fpm $CONNS" "http://127.0.0.1:$web/" "$ppid" "$fpm_pid"; done
fpm_stop; apache stop "$conf"

# 3. mod_php, prefork, as many processes as connections
for CONNS in $CONN_LIST; do
  web=$(free_port)
  conf=$(prefork_conf "$OUT/prefork" "$web" "$OUT/phpini" <<CONF
$(front_dir async_db_front.php)
<Files "async_db_front.php">
    SetHandler application/x-httpd-php
</Files>
CONF
)
  apache start "$conf"
  wait_up "http://127.0.0.1:$web/"; check "http://127.0.0.1:$web/"
  measure "mod_php $CONNS" "http://127.0.0.1:$web/" "$(cat "$OUT/prefork/httpd.pid")"
  apache stop "$conf"
done

echo "async-db: one random row of 10,000 by primary key, PostgreSQL $("${pg_psql[@]}" -A -t -c 'SHOW server_version' | cut -d' ' -f1) on loopback; wrk 2 threads, ${SECS} s, $(nproc) CPUs"
echo "mod_trueasync: 2 PHP threads, pool of at most $POOL connections each; php-fpm: $children children (module's Apache child $((module_rss / 1024)) MiB RSS, one fpm child $((fpm_child_rss / 1024)) MiB); mod_php: a process per connection"
printf '%-20s %11s %14s %16s %8s %8s  %s\n' "" "requests/s" "server µs/req" "PostgreSQL µs/req" "RSS MiB" "non-2xx" "socket errors"
awk -F'|' '{ printf "%-20s %11s %14s %16s %8s %8s  %s\n", $1, $2, $3, $7, $4, $5, $6 }' "$results"
awk -F'|' '{ split($1, a, " "); rps[a[1], a[2]] = $2; cpu[a[1], a[2]] = $3; if (!(a[2] in seen)) { seen[a[2]] = 1; cl[++k] = a[2] } }
  END { for (j = 1; j <= k; j++) { n = cl[j]
          for (i = 1; i <= 2; i++) { o = i == 1 ? "php-fpm" : "mod_php"; if (rps[o, n] > 0 && cpu[o, n] > 0)
            printf "%s connections: mod_trueasync/%s %.2fx requests/s, %.2fx server CPU per request\n",
                   n, o, rps["mod_trueasync", n] / rps[o, n], cpu["mod_trueasync", n] / cpu[o, n] } } }' "$results"
echo "goal: mod_trueasync >= 2x php-fpm's requests/s"
