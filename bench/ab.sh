#!/usr/bin/env bash
# A/B of two builds of the module in one run: builds REV (a commit) in a
# worktree under build/ab/, then alternates bench/run.sh --http-only between
# that build and the current build/mod_trueasync.so, ROUNDS times each, and
# prints every row and the medians. With --io, bench/io.sh too (once each).
#   bench/ab.sh REV [ROUNDS] [--io]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rev=${1:?usage: bench/ab.sh REV [ROUNDS] [--io]}
rounds=${2:-3}
io=${3:-}
. "$ROOT/bench/lib.sh"   # ab_build
old=$(ab_build "$rev") new=$ROOT/build/mod_trueasync.so
[ -f "$new" ] || { echo "ab: run 'make module' first" >&2; exit 1; }
rows=$ROOT/build/ab/rows.txt; : > "$rows"
for i in $(seq "$rounds"); do
  for side in old new; do
    so=$old; [ $side = new ] && so=$new
    out=$(BENCH_MODULE=$so BENCH_LABEL="$side" "$ROOT/bench/run.sh" --http-only 2>/dev/null)
    echo "$out" | awk -v side=$side -v r=$i '$1 == side { print r, side, $2, $4, $7 } $1 == "static" { print r, side "-static", $3, $5, $8 }' >> "$rows"
  done
done
echo "round build requests/s p99_ms server_us/req"; cat "$rows"
for side in old new; do
  awk -v side=$side '$2 == side { print $3, $5 }' "$rows" | sort -n | awk -v side=$side \
    '{ r[NR] = $1; c[NR] = $2 } END { m = int((NR + 1) / 2); printf "median %s: %s requests/s\n", side, r[m] }'
  awk -v side=$side '$2 == side { print $5 }' "$rows" | sort -n | awk -v side=$side \
    '{ c[NR] = $1 } END { m = int((NR + 1) / 2); printf "median %s: %s server us/request\n", side, c[m] }'
done
if [ "$io" = --io ]; then
  for side in old new; do
    so=$old; [ $side = new ] && so=$new
    echo "== bench/io.sh with the $side build"
    BENCH_MODULE=$so "$ROOT/bench/io.sh" 2>/dev/null | tail -15
  done
fi
