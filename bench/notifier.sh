#!/usr/bin/env bash
# Builds and runs bench/notifier_bench.c (wake-up mechanisms ping-pong).
#   bench/notifier.sh [seconds per case, default 2]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench
mkdir -p "$OUT"
${CC:-cc} -std=c11 -O2 -g -Wall -Wextra -Werror -pthread \
  -o "$OUT/notifier_bench" "$ROOT/bench/notifier_bench.c" "$ROOT/notifier.c" -luv
exec "$OUT/notifier_bench" "${1:-2}"
