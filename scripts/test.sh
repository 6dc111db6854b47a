#!/usr/bin/env bash
# Runs every test: C unit tests (AddressSanitizer, leak checks) and the
# Apache::Test suite against a real Apache with the freshly built module.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "== C unit tests =="
make --no-print-directory unit || status=1
echo "== Apache::Test suite =="
scripts/apache-test.sh || status=1
if [ $status -ne 0 ]; then echo "make test: FAILED"; else echo "make test: all passed"; fi
exit $status
