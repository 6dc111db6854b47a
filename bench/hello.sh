#!/usr/bin/env bash
# Server CPU per request for an 11-byte "Hello world", in interleaved rounds:
# Apache's static file (sendfile, EnableMMAP Off, AllowOverride None), the
# module's smallest handler (bench/hello_worker.php, 2 PHP threads, event
# MPM), optionally a second build of the module (BENCH_MODULE_B), and
# Debian's mod_php 8.2 under prefork (opcache on) answering the same body,
# with the extensions Debian enables for the installed php8.2-* packages
# (its fpm conf.d; BENCH_MODPHP_EXT=minimal: opcache alone).
# All servers run for the whole call; each round measures each in turn, so
# drifting load on a shared machine hits every side alike. Per side and
# round: requests/s, server CPU µs per request (utime+stime of all its
# processes, from /proc), and context switches per request (the
# voluntary+involuntary counts of every thread of its processes), and of
# those the share of the module's PHP threads (named ta-php-N).
#   bench/hello.sh [ROUNDS]       (3)
# Environment: BENCH_SECONDS (5 per side and round), BENCH_CONNECTIONS (64),
# BENCH_MODULE (build/mod_trueasync.so), BENCH_MODULE_B (none),
# BENCH_NO_MODPHP=1 (leave mod_php out).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench/hello
SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
ROUNDS=${1:-3}
MODULE=$(realpath "${BENCH_MODULE:-$ROOT/build/mod_trueasync.so}")
MODULE_B=${BENCH_MODULE_B:+$(realpath "$BENCH_MODULE_B")}
BODY='Hello world'
HTTPD=/usr/sbin/apache2
log() { echo "hello: $*" >&2; }
[ -f "$MODULE" ] || { log "$MODULE missing: run 'make module'"; exit 1; }
. "$ROOT/bench/lib.sh"   # free_port, prefork_conf
rm -rf "$OUT"; mkdir -p "$OUT"
confs=()
cleanup() { for c in "${confs[@]}"; do "$HTTPD" -f "$c" -k stop >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

# An event-MPM server with the module (and the static file): prints its conf.
module_server() {  # name so
  local dir=$OUT/$1 port; port=$(free_port)
  mkdir -p "$dir/htdocs"
  printf '%s' "$BODY" > "$dir/htdocs/hello.txt"
  cat > "$OUT/$1.conf" <<CONF
LoadModule trueasync_module $2
TrueAsyncWorker $ROOT/bench/hello_worker.php
TrueAsyncThreads 2
TrueAsyncBufferSize $CONNS
<Location /hello>
    SetHandler trueasync-worker
</Location>
EnableMMAP Off
EnableSendfile On
MaxKeepAliveRequests 0
CONF
  "$ROOT/scripts/apache-conf.sh" -m none -x "$OUT/$1.conf" -a off -t $((CONNS + 64)) \
    -r "$ROOT/bench/hello_worker.php" -r "$dir/htdocs/hello.txt" "$dir" "$port"
}

# Debian's mod_php under prefork (bench/lib.sh's prefork_conf): prints its conf.
modphp_server() {
  local dir=$OUT/modphp
  mkdir -p "$dir/htdocs" "$dir/phpini"
  printf '<?php\nheader("Content-Type: text/plain");\necho "%s";\n' "$BODY" > "$dir/htdocs/hello.php"
  {
    [ "${BENCH_MODPHP_EXT:-stock}" = minimal ] && echo "zend_extension=opcache.so"
    printf 'opcache.enable=1\nopcache.validate_timestamps=0\ndisplay_errors=0\nlog_errors=1\n'
  } > "$dir/phpini/php.ini"
  prefork_conf "$dir" "$(free_port)" "$dir/phpini" <<CONF
DocumentRoot "$dir/htdocs"
<Directory "$dir/htdocs">
    AllowOverride None
    Require all granted
</Directory>
<Files "*.php">
    SetHandler application/x-httpd-php
</Files>
CONF
}

start() {  # conf url: starts it, waits for the body
  local scan=
  # Debian's stock extension set for mod_php (the same list its apache2 conf.d gets)
  case $1 in */modphp/*) [ "${BENCH_MODPHP_EXT:-stock}" = minimal ] || scan=/etc/php/8.2/fpm/conf.d ;; esac
  PHP_INI_SCAN_DIR=$scan "$HTTPD" -f "$1" -k start
  confs+=("$1")
  for _ in $(seq 100); do [ "$(curl -s --max-time 2 "$2" || true)" = "$BODY" ] && return 0; sleep 0.2; done
  log "$2 does not answer '$BODY'"; exit 1
}
port_of() { sed -n 's/^Listen 127.0.0.1:\([0-9]*\)$/\1/p' "$1"; }
pids_of() { local p; p=$(cat "$(dirname "$1")/httpd.pid"); echo "$p" $(pgrep -P "$p"); }

# "ticks switches php_ticks php_switches" of these processes (all their
# threads; php_: the module's PHP threads alone, named ta-php-N).
usage() {
  local t=0 s=0 pt=0 ps=0 p f task n c
  for p in "$@"; do
    f=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f; t=$((t + ${12} + ${13}))
    for task in /proc/"$p"/task/*; do
      n=$(awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' "$task/status" 2>/dev/null || echo 0)
      s=$((s + n))
      case $(cat "$task/comm" 2>/dev/null) in
        ta-php-*) f=$(cut -d')' -f2 "$task/stat" 2>/dev/null) || continue
                  set -- $f; pt=$((pt + ${12} + ${13})); ps=$((ps + n)) ;;
      esac
    done
  done
  echo "$t $s $pt $ps"
}

round_measure() {  # label url conf round
  local pids t0 s0 p0 q0 t1 s1 p1 q1 out
  pids=$(pids_of "$3")
  read -r t0 s0 p0 q0 <<<"$(usage $pids)"
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 5s "$2")
  read -r t1 s1 p1 q1 <<<"$(usage $pids)"
  echo "$out" | awk -v l="$1" -v r="$4" -v ticks=$((t1 - t0)) -v sw=$((s1 - s0)) -v pt=$((p1 - p0)) -v ps=$((q1 - q0)) \
      -v hz="$(getconf CLK_TCK)" '
    /^Requests\/sec:/ { rps = $2 } / requests in / { n = $1 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    END { if (n <= 0) n = 1e99
          printf "%s %s %.0f %.1f %.2f %d %.1f %.2f\n", r, l, rps, ticks * 1e6 / hz / n, sw / n, bad, pt * 1e6 / hz / n, ps / n }'
}

sides=() urls=() cfgs=()
conf=$(module_server a "$MODULE")
start "$conf" "http://127.0.0.1:$(port_of "$conf")/hello"
sides+=(static module) cfgs+=("$conf" "$conf")
urls+=("http://127.0.0.1:$(port_of "$conf")/hello.txt" "http://127.0.0.1:$(port_of "$conf")/hello")
if [ -n "$MODULE_B" ]; then
  conf=$(module_server b "$MODULE_B")
  start "$conf" "http://127.0.0.1:$(port_of "$conf")/hello"
  sides+=(module_b) cfgs+=("$conf") urls+=("http://127.0.0.1:$(port_of "$conf")/hello")
fi
if [ "${BENCH_NO_MODPHP:-0}" != 1 ]; then
  conf=$(modphp_server)
  start "$conf" "http://127.0.0.1:$(port_of "$conf")/hello.php"
  sides+=(mod_php) cfgs+=("$conf") urls+=("http://127.0.0.1:$(port_of "$conf")/hello.php")
fi

log "warm-up"
for i in "${!sides[@]}"; do wrk -t2 -c"$CONNS" -d2s "${urls[$i]}" >/dev/null; done
rows=$OUT/rows.txt; : > "$rows"
for r in $(seq "$ROUNDS"); do
  for i in "${!sides[@]}"; do round_measure "${sides[$i]}" "${urls[$i]}" "${cfgs[$i]}" "$r" >> "$rows"; done
done

echo "Hello world (11 bytes), wrk 2 threads, $CONNS connections, ${SECS} s per side and round, $(nproc) CPUs"
# php: the share of the module's PHP threads (the rest: Apache's listener and workers)
printf '%-6s %-10s %12s %14s %14s %8s %12s %14s\n' round side requests/s "server µs/req" "switches/req" non-2xx \
  "php µs/req" "php sw/req"
awk '{ printf "%-6s %-10s %12s %14s %14s %8s %12s %14s\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$rows"
for s in "${sides[@]}"; do
  awk -v s="$s" '$2 == s' "$rows" | sort -k4,4n | awk -v s="$s" '{ c[NR] = $4; r[NR] = $3 } END {
    m = int((NR + 1) / 2); printf "median %-10s %14s µs/req\n", s, c[m] }'
done
# Ratios per round (the sides of one round ran under the same load), then their median.
awk '{ cpu[$1, $2] = $4; rounds[$1] = 1 } END {
  n = 0; for (r in rounds) if (cpu[r, "static"] > 0) {
    m[++n] = cpu[r, "module"] / cpu[r, "static"]
    if ((r, "mod_php") in cpu) p[n] = cpu[r, "mod_php"] / cpu[r, "module"]
    if ((r, "module_b") in cpu) { b[n] = cpu[r, "module_b"] / cpu[r, "static"]; ab[n] = cpu[r, "module_b"] / cpu[r, "module"] }
    if ((r, "module_b") in cpu && (r, "mod_php") in cpu) pb[n] = cpu[r, "mod_php"] / cpu[r, "module_b"]
  }
  asort(m); printf "module / static CPU per request, median of rounds: %.2f\n", m[int((n + 1) / 2)]
  if (length(b)) { asort(b); printf "module_b / static CPU per request, median of rounds: %.2f\n", b[int((n + 1) / 2)] }
  if (length(ab)) { asort(ab); printf "module_b / module CPU per request, median of rounds: %.2f\n", ab[int((n + 1) / 2)] }
  if (length(p)) { asort(p); printf "mod_php / module CPU per request, median of rounds: %.2f\n", p[int((n + 1) / 2)] }
  if (length(pb)) { asort(pb); printf "mod_php / module_b CPU per request, median of rounds: %.2f\n", pb[int((n + 1) / 2)] }
}' "$rows"
