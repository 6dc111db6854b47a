#!/usr/bin/env bash
# Runs every test: the log tags and the documentation's links and
# directives are in step with the code (scripts/check-log-tags.sh,
# scripts/check-doc-links.pl), the files made from stubs/*.stub.php are up
# to date (scripts/stubs.sh --check), C unit tests (AddressSanitizer, leak checks),
# the Apache::Test suite against a real Apache with the freshly built module,
# the Debian package built, installed into this machine's own Apache and
# purged again (scripts/deb-test.sh, under a minute), then the same suite
# again against the ASan/UBSan build of the module (about as long as the
# plain run).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "== log tags =="
scripts/check-log-tags.sh || status=1
echo "== documentation: links and directives =="
scripts/check-doc-links.pl || status=1
echo "== stubs/*_arginfo.h are what stubs/*.stub.php make =="
scripts/stubs.sh --check || status=1
echo "== C unit tests =="
make --no-print-directory unit || status=1
echo "== Apache::Test suite =="
scripts/apache-test.sh || status=1
echo "== Debian package: make deb, then installed into this machine's Apache and purged =="
{ make --no-print-directory deb && scripts/deb-test.sh; } || status=1
echo "== Apache::Test suite, module built with ASan+UBSan =="
{ make --no-print-directory module-asan && scripts/apache-test.sh --asan; } || status=1
if [ $status -ne 0 ]; then echo "make test: FAILED"; else echo "make test: all passed"; fi
exit $status
