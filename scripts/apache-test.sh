#!/usr/bin/env bash
# Runs the Apache::Test integration suite (t/) against build/mod_trueasync.so.
#   scripts/apache-test.sh                 whole suite
#   scripts/apache-test.sh t/trueasync/06_stream.t [-verbose]   a subset
# Needs: `make module` done; Debian packages apache2, apache2-dev,
# libapache2-mod-perl2 (Apache::Test), libwww-perl. Non-interactive.
# Exits non-zero when any test fails or the server does not start.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ ! -f build/mod_trueasync.so ]; then
  echo "apache-test: build/mod_trueasync.so is missing; run 'make module' first" >&2
  exit 2
fi
if ! perl -MApache::TestRun -e1 2>/dev/null; then
  echo "apache-test: Apache::Test not found (Debian: apt-get install libapache2-mod-perl2)" >&2
  exit 2
fi

export APACHE_TEST_HTTPD=${APACHE_TEST_HTTPD:-/usr/sbin/apache2}
export APACHE_TEST_APXS=${APACHE_TEST_APXS:-/usr/bin/apxs}
export APACHE_TEST_COLOR=0

# Stop a server left over from an interrupted run, drop stale generated
# config/logs (t/TEST.PL -clean also stops the server it configured).
perl t/TEST.PL -clean </dev/null >/dev/null 2>&1 || true
rm -f t/logs/keepalive_log t/logs/error_log t/logs/access_log 2>/dev/null || true

# A throwaway self-signed certificate for the TLS virtual host.
if [ ! -s t/conf/ssl-gen/server.crt ]; then
  mkdir -p t/conf/ssl-gen
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
    -keyout t/conf/ssl-gen/server.key -out t/conf/ssl-gen/server.crt >/dev/null 2>&1 \
    || { echo "apache-test: openssl could not make a test certificate" >&2; exit 2; }
fi

status=0
perl t/TEST.PL "$@" </dev/null || status=$?

# Always leave nothing running.
if [ -f t/logs/httpd.pid ]; then
  pid=$(cat t/logs/httpd.pid 2>/dev/null || true)
  if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
fi

if [ "$status" -ne 0 ]; then
  echo "apache-test: FAILED (exit $status); server log: $ROOT/t/logs/error_log" >&2
fi
exit "$status"
