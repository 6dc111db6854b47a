#!/usr/bin/env bash
# The cost of a request's Scope and Context (issue 11): the hello handler
# (examples/worker.php) beside the same handler that makes its request's
# Context, sets a value and reads it back (bench/context_worker.php),
# through bench/run.sh --http-only, ROUNDS alternations (default 2).
#   bench/context.sh [ROUNDS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-2}
rows=$ROOT/build/bench/context-rows.txt
mkdir -p "$(dirname "$rows")"; : > "$rows"
for i in $(seq "$rounds"); do
  for side in plain context; do
    w=$ROOT/examples/worker.php; [ $side = context ] && w=$ROOT/bench/context_worker.php
    BENCH_WORKER=$w BENCH_LABEL=$side "$ROOT/bench/run.sh" --http-only 2>/dev/null |
      awk -v side=$side -v r=$i '$1 == side { print r, side, $2, $7 }' >> "$rows"
  done
done
echo "round handler requests/s server_us/req"; cat "$rows"
for side in plain context; do
  awk -v s=$side '$2 == s { n++; r += $3; c += $4 } END { printf "%s mean: %.0f req/s, %.1f µs/req\n", s, r / n, c / n }' "$rows"
done | tee /dev/stderr | awk '{ rps[NR] = $3; us[NR] = $5 } END { printf "context/plain: requests/s %.3f, server µs/req %.3f\n", rps[2] / rps[1], us[2] / us[1] }'
