#!/usr/bin/env bash
# Runs Apache in the foreground on 127.0.0.1:PORT with mod_trueasync serving
# examples/worker.php (via conf/trueasync.conf). Ctrl-C stops it.
#   scripts/run-server.sh [PORT]          (default 8080; `make run` uses this)
# Environment: TA_ERROR_LOG (default /dev/stderr), TA_LOGLEVEL (default
# "warn"; e.g. "info" or "warn trueasync:debug"), TA_THREADS_PER_CHILD (64).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${1:-8080}
RUN=$ROOT/build/run
HTTPD=/usr/sbin/apache2

[ -x "$HTTPD" ] || { echo "run-server: $HTTPD missing (apt-get install apache2)" >&2; exit 1; }
[ -f "$ROOT/build/mod_trueasync.so" ] || {
  echo "run-server: $ROOT/build/mod_trueasync.so missing; build it with 'make module'" >&2; exit 1; }

conf=$("$ROOT/scripts/apache-conf.sh" -e "${TA_ERROR_LOG:-/dev/stderr}" -l "${TA_LOGLEVEL:-warn}" \
        -t "${TA_THREADS_PER_CHILD:-64}" "$RUN" "$PORT")
"$HTTPD" -f "$conf" -t

cat >&2 <<MSG
run-server: http://127.0.0.1:$PORT/  (try /, /hello, /stream, /sleep?ms=500, /form, /info)
run-server: config $conf
run-server: error log ${TA_ERROR_LOG:-stderr}, access log $RUN/access_log
run-server: Ctrl-C to stop
MSG
exec "$HTTPD" -f "$conf" -DFOREGROUND
