#!/usr/bin/env bash
# Runs the Apache::Test integration suite (t/) against build/mod_trueasync.so.
#   scripts/apache-test.sh                 whole suite
#   scripts/apache-test.sh t/trueasync/06_stream.t [-verbose]   a subset
#   scripts/apache-test.sh --asan [...]    the same against
#       build/asan/mod_trueasync.so (`make module-asan`) in an apache2 with
#       the ASan/UBSan runtimes preloaded (scripts/asan-httpd); fails when
#       any process wrote a sanitizer report (build/asan/reports)
# Needs: `make module` done; Debian packages apache2, apache2-dev,
# libapache2-mod-perl2 (Apache::Test), libwww-perl. Non-interactive.
# Exits non-zero when any test fails or the server does not start.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

asan=0
if [ "${1:-}" = --asan ]; then asan=1; shift; fi
so=build/mod_trueasync.so; build_target=module
if [ $asan = 1 ]; then so=build/asan/mod_trueasync.so; build_target=module-asan; fi

if [ ! -f $so ]; then
  echo "apache-test: $so is missing; run 'make $build_target' first" >&2
  exit 2
fi
if ! perl -MApache::TestRun -e1 2>/dev/null; then
  echo "apache-test: Apache::Test not found (Debian: apt-get install libapache2-mod-perl2)" >&2
  exit 2
fi

export APACHE_TEST_HTTPD=${APACHE_TEST_HTTPD:-/usr/sbin/apache2}
export APACHE_TEST_APXS=${APACHE_TEST_APXS:-/usr/bin/apxs}
export APACHE_TEST_COLOR=0

defines=()
if [ $asan = 1 ]; then
  # httpd is started through the wrapper; -D TRUEASYNC_ASAN makes
  # t/conf/extra.conf load the instrumented module (and t/lib/TATest.pm's
  # module_so() name it for tests that start their own httpd).
  export TRUEASYNC_REAL_HTTPD=$APACHE_TEST_HTTPD
  export APACHE_TEST_HTTPD=$ROOT/scripts/asan-httpd
  export TRUEASYNC_ASAN_REPORTS=$ROOT/build/asan/reports
  rm -rf "$TRUEASYNC_ASAN_REPORTS"
  mkdir -p "$TRUEASYNC_ASAN_REPORTS"
  # the children run as the unprivileged User and write their own reports
  chmod 1777 "$TRUEASYNC_ASAN_REPORTS"
  defines=(-defines TRUEASYNC_ASAN)
fi

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
perl t/TEST.PL "${defines[@]}" "$@" </dev/null || status=$?

# Always leave nothing running.
if [ -f t/logs/httpd.pid ]; then
  pid=$(cat t/logs/httpd.pid 2>/dev/null || true)
  if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    # wait for it to go: its children write their sanitizer reports on the way
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
fi

if [ $asan = 1 ]; then
  # One warning is expected and is not a report: a longjmp() off a Fiber
  # stack (PHP's bailout after a fatal error in a request coroutine,
  # t/trueasync/13_fatal.t) makes ASan skip unpoisoning that stack, since
  # PHP does not tell it about Fiber stacks. It prints this once per
  # process; any false positive it warns of would still fail the run.
  noreturn='WARNING: ASan is ignoring requested __asan_handle_no_return: stack type: default'
  reported=0
  for f in "$TRUEASYNC_ASAN_REPORTS"/*; do
    [ -s "$f" ] || continue
    rest=$(grep -v -e "$noreturn" -e '^False positive error reports may follow$' \
             -e '^For details see https://github.com/google/sanitizers/issues/189$' "$f")
    if [ -z "$rest" ]; then
      echo "apache-test: $(basename "$f"): only the expected Fiber-stack longjmp warning"
      continue
    fi
    reported=$((reported + 1))
    echo "==== sanitizer report: $f" >&2
    cat "$f" >&2
  done
  if [ $reported -ne 0 ]; then
    echo "apache-test: $reported sanitizer report file(s) in $TRUEASYNC_ASAN_REPORTS" >&2
    [ "$status" -ne 0 ] || status=1
  else
    echo "apache-test: no sanitizer reports"
  fi
fi

if [ "$status" -ne 0 ]; then
  echo "apache-test: FAILED (exit $status); server log: $ROOT/t/logs/error_log" >&2
fi
exit "$status"
