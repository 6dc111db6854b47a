# Shared by the bench scripts (sourced). stop_httpd stops the Apache whose
# parent pid is in $httpd_pid: TERM, up to 10 s for it to go, then KILL of
# it and its children; children of an earlier generation that outlived the
# parent (after graceful restarts) are killed too. Uses the caller's log().
stop_httpd() {
  [ -n "${httpd_pid:-}" ] || return 0
  local kids k; kids=$(pgrep -P "$httpd_pid" 2>/dev/null || true)
  kill -TERM "$httpd_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$httpd_pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$httpd_pid" 2>/dev/null; then
    log "Apache did not stop in 10 s; killing it"
    kill -KILL "$httpd_pid" $kids 2>/dev/null || true
  fi
  wait "$httpd_pid" 2>/dev/null || true
  for k in $kids; do kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null; done
  httpd_pid=""
}

# ab_build REV: the module built from commit REV in a worktree under
# build/ab/ (made once, reused); prints the .so's path.
ab_build() {
  local wt; wt=$ROOT/build/ab/$(git -C "$ROOT" rev-parse --short "$1")
  if [ ! -f "$wt/build/mod_trueasync.so" ]; then
    rm -rf "$wt"; git -C "$ROOT" worktree prune
    git -C "$ROOT" worktree add -q --detach "$wt" "$1"
    make -C "$wt" --no-print-directory module >/dev/null
  fi
  echo "$wt/build/mod_trueasync.so"
}

# --- for the benches that compare servers (frameworks.sh, symfony_full.sh,
# scaling.sh, async_db.sh). They set ROOT, OUT, CONNS, SECS and log().

# free_port: a free loopback port (the kernel picks it).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# need_pkgs PKG...: installs the Debian packages that are missing.
need_pkgs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
      log "installing $p"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >&2; }
  done
}

# These pids and their children, one a line.
all_pids() { local p; for p in "$@"; do echo "$p"; pgrep -P "$p" || true; done; }
# ticks_of PID...: utime+stime (clock ticks) of these processes and their children.
ticks_of() {
  local t=0 p f
  for p in $(all_pids "$@"); do
    f=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f; t=$((t + ${12} + ${13}))
  done
  echo $t
}
# rss_of PID...: their VmRSS summed (KiB), children included.
rss_of() {
  local s=0 p r
  for p in $(all_pids "$@"); do
    r=$(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null) || continue
    s=$((s + ${r:-0}))
  done
  echo $s
}

wait_up() { for _ in $(seq 150); do curl -sf -o /dev/null --max-time 5 "$1" && return 0; sleep 0.2; done; log "$1 does not answer"; exit 1; }

# measure LABEL URL PID...: warms up 3 s, then wrk for SECS s at CONNS
# connections; appends to $results
#   label|requests/s|server µs/req|RSS MiB|non-2xx|socket errors|apart µs/req
# where the server is PID... and their children, and "apart" the processes
# in $apart_pids (a database: its CPU is reported beside the server's).
measure() {
  local label=$1 url=$2; shift 2
  wrk -t2 -c"$CONNS" -d3s "$url" >/dev/null 2>&1 || true
  local t0 a0 t1 a1 out
  t0=$(ticks_of "$@"); a0=$(ticks_of ${apart_pids:-})
  out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s "$url")
  t1=$(ticks_of "$@"); a1=$(ticks_of ${apart_pids:-})
  echo "$out" > "$OUT/wrk-${label// /_}.txt"
  echo "$out" | awk -v l="$label" -v ticks=$((t1 - t0)) -v apart=$((a1 - a0)) -v hz="$(getconf CLK_TCK)" \
      -v rss="$(rss_of "$@")" '
    /^Requests\/sec:/ { rps = $2 } / requests in / { n = $1 }
    /Non-2xx or 3xx responses:/ { bad = $NF } /Socket errors:/ { err = $0 }
    END { printf "%s|%.0f|%.1f|%.0f|%d|%s|%.1f\n", l, rps, (n > 0 ? ticks * 1e6 / hz / n : 0), rss / 1024, bad, err,
                 (n > 0 ? apart * 1e6 / hz / n : 0) }' >> "$results"
}

# module_conf DIR PORT WORKER THREADS BUFFER APACHE_THREADS [READABLE...]:
# an Apache (one child) with the module ($MODULE) serving WORKER for every
# URL; stdin adds directives. Prints the httpd.conf path.
module_conf() {
  local dir=$1 port=$2 worker=$3 threads=$4 buffer=$5 at=$6 p r=()
  shift 6
  for p in "$worker" "$@"; do r+=(-r "$p"); done
  cat > "$dir.conf" <<CONF
LoadModule trueasync_module $MODULE
TrueAsyncWorker $worker
TrueAsyncThreads $threads
TrueAsyncBufferSize $buffer
$(cat)
<Location />
    SetHandler trueasync-worker
</Location>
CONF
  "$ROOT/scripts/apache-conf.sh" -m none -x "$dir.conf" -a off -t "$at" "${r[@]}" "$dir" "$port"
}

# modphp_so: Debian's mod_php, never installed (installing it switches the
# system's Apache to prefork): the copy scripts/setup.sh unpacked, else one
# unpacked from its .deb under build/bench/modphp, shared by the benches.
modphp_so() {
  local so=/usr/lib/apache2/modules/libphp8.2.so dir=$ROOT/build/bench/modphp
  local setup=${TRUEASYNC_CACHE:-/var/cache/mod_trueasync}/mod-php/root
  [ -f "$setup$so" ] && { echo "$setup$so"; return; }
  if [ ! -f "$dir$so" ]; then
    mkdir -p "$dir"
    (cd "$dir" && apt-get download -qq libapache2-mod-php8.2 >&2 && dpkg-deb -x libapache2-mod-php8.2_*.deb .)
  fi
  echo "$dir$so"
}

# prefork_conf DIR PORT PHPINIDIR: an httpd.conf under DIR for mod_php
# under prefork, CONNS processes, kept-alive connections; stdin is added
# (the document root and the PHP handler). Prints its path. The children
# run as BENCH_USER, by default www-data (the caller when not root).
prefork_conf() {
  local dir=$1 user=${BENCH_USER:-www-data}
  [ -n "${BENCH_USER:-}" ] || [ "$(id -u)" = 0 ] || user=$(id -un)
  mkdir -p "$dir"
  cat > "$dir/httpd.conf" <<CONF
ServerRoot "$dir"
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
Mutex default:$dir
Listen 127.0.0.1:$2
ServerName 127.0.0.1
User $user
Group $user
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule php_module $(modphp_so)
PHPIniDir "$3"
StartServers $CONNS
MinSpareServers $CONNS
MaxSpareServers $CONNS
ServerLimit $CONNS
MaxRequestWorkers $CONNS
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
ErrorLog "$dir/error_log"
TypesConfig /etc/mime.types
$(cat)
CONF
  echo "$dir/httpd.conf"
}

# fpm_conf FILE PORT CHILDREN: a php-fpm configuration, one static pool
# listening on PORT; stdin is added to the pool (env[...] lines).
fpm_conf() {
  local user=${BENCH_USER:-www-data}
  cat > "$1" <<FPM
[global]
error_log = ${1%.conf}.log
[www]
listen = 127.0.0.1:$2
user = $user
group = $user
pm = static
pm.max_children = $3
$(cat)
FPM
}

# proxy_fcgi_conf FILE PORT SCRIPT: an Apache snippet that serves every URL
# through the front controller SCRIPT (under bench/), handed to php-fpm on
# PORT by mod_proxy_fcgi over kept-alive connections.
proxy_fcgi_conf() {
  cat > "$1" <<CONF
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so
$(front_dir "$3")
<Proxy "fcgi://127.0.0.1:$2" enablereuse=on max=$CONNS>
</Proxy>
<Files "$3">
    SetHandler "proxy:fcgi://127.0.0.1:$2"
</Files>
CONF
}

# front_dir SCRIPT: bench/ as the document root, every URL rewritten to the
# front controller SCRIPT (mod_rewrite loaded here, where it is used).
front_dir() {
  cat <<CONF
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
DocumentRoot "$ROOT/bench"
<Directory "$ROOT/bench">
    AllowOverride None
    Require all granted
    RewriteEngine On
    RewriteRule ^ $1 [L]
</Directory>
CONF
}

# pg_start DIR: a private PostgreSQL (Debian's postgresql): a fresh cluster
# in DIR, trust auth, no fsync, a free loopback port (PG_PORT if set), run
# as the postgres user. Sets pg_port, pg_pid (the postmaster: its children are the
# backends) and pg_psql (psql on it, as postgres). pg_stop ends it.
pg_start() {
  local dir=$1 bin as=()
  bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -1)
  [ -x "$bin/postgres" ] || { log "PostgreSQL not installed (apt-get install postgresql)"; exit 1; }
  [ "$(id -u)" != 0 ] || as=(runuser -u postgres --)
  rm -rf "$dir"; mkdir -p "$dir"; [ "$(id -u)" != 0 ] || chown postgres "$dir"
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync > "$dir/initdb.log" 2>&1 ||
    { log "initdb failed, see $dir/initdb.log"; exit 1; }
  pg_port=${PG_PORT:-$(free_port)}
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=${PG_MAX_CONNECTIONS:-100} -c shared_buffers=64MB" >/dev/null ||
    { log "PostgreSQL did not start, see $dir/server.log"; exit 1; }
  pg_pid=$(head -1 "$dir/data/postmaster.pid")
  pg_psql=("${as[@]}" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres)
}
pg_stop() {
  [ -n "${pg_pid:-}" ] || return 0
  kill -INT "$pg_pid" 2>/dev/null || true   # fast shutdown
  for _ in $(seq 75); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.2; done
  pg_pid=""
}

# mariadb_start DIR PORT: a private MariaDB (Debian's mariadb-server): a
# fresh data directory in DIR, no grant tables (root without a password),
# loopback PORT, as the mysql user when run as root. Sets mariadb_pid and
# mariadb_sql (Debian's client on it). mariadb_stop ends it.
mariadb_start() {
  local dir=$1 user; user=$(id -un)
  local mysqld=/usr/sbin/mariadbd; [ -x "$mysqld" ] || mysqld=/usr/sbin/mysqld
  [ -x "$mysqld" ] || { log "MariaDB not installed (apt-get install mariadb-server)"; exit 1; }
  [ "$(id -u)" != 0 ] || user=mysql
  rm -rf "$dir"; mkdir -p "$dir"; chown "$user" "$dir"
  mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" --auth-root-authentication-method=normal \
    --skip-test-db > "$dir/install.log" 2>&1 || { log "mariadb-install-db failed, see $dir/install.log"; exit 1; }
  "$mysqld" --no-defaults --user="$user" --datadir="$dir/data" --socket="$dir/sock" --port="$2" \
    --bind-address=127.0.0.1 --skip-grant-tables --pid-file="$dir/pid" --max-connections=200 --skip-log-bin \
    --innodb-buffer-pool-size=32M > "$dir/server.log" 2>&1 & mariadb_pid=$!
  mariadb_sql=(mariadb --no-defaults -h127.0.0.1 -P"$2" -uroot -N -B)
  for _ in $(seq 150); do
    "${mariadb_sql[@]}" -e 'SELECT 1' >/dev/null 2>&1 && return 0
    kill -0 "$mariadb_pid" 2>/dev/null || break
    sleep 0.2
  done
  log "MariaDB did not start, see $dir/server.log"; exit 1
}
mariadb_stop() {
  [ -n "${mariadb_pid:-}" ] || return 0
  kill -TERM "$mariadb_pid" 2>/dev/null || true
  for _ in $(seq 75); do kill -0 "$mariadb_pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$mariadb_pid" 2>/dev/null || true
  wait "$mariadb_pid" 2>/dev/null || true
  mariadb_pid=""
}

# redis_start DIR PORT: a private redis-server (Debian's redis-server) on
# loopback PORT, no persistence. Sets redis_pid; redis_stop ends it.
redis_start() {
  [ -x /usr/bin/redis-server ] || { log "redis-server not installed (apt-get install redis-server)"; exit 1; }
  rm -rf "$1"; mkdir -p "$1"
  /usr/bin/redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no --dir "$1" --daemonize no \
    --maxclients 1000 > "$1/server.log" 2>&1 & redis_pid=$!
  for _ in $(seq 100); do
    [ "$(redis-cli -h 127.0.0.1 -p "$2" PING 2>/dev/null)" = PONG ] && return 0
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  log "redis-server did not start, see $1/server.log"; exit 1
}
redis_stop() {
  [ -n "${redis_pid:-}" ] || return 0
  kill -TERM "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
}
