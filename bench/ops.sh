#!/usr/bin/env bash
# What running it in production costs (issue 12), with bench/run.sh's hello
# load, alternating ROUNDS times in one run:
#   1. bookkeeping: REV's build (before the status figures, the watchdog and
#      the timeouts; default: the commit before them) beside the current
#      build with TrueAsyncRequestTimeout, TrueAsyncMaxWaitTime and
#      TrueAsyncSlowlogTimeout set and the status page served (goal: within 3 %);
#   2. recycling: the current build with TrueAsyncMaxRequests 100 beside 0.
#   bench/ops.sh [ROUNDS [REV]]     (BENCH_SECONDS etc. as for bench/run.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
rev=${2:-$(git -C "$ROOT" log --format=%H -1 --grep='^TrueAsyncRequestTimeout (per location' )^}
. "$ROOT/bench/lib.sh"   # ab_build
old=$(ab_build "$rev") new=$ROOT/build/mod_trueasync.so
[ -f "$new" ] || { echo "ops: run 'make module' first" >&2; exit 1; }
ops_conf='TrueAsyncRequestTimeout 30
TrueAsyncMaxWaitTime 5000
TrueAsyncSlowlogTimeout 1000
<Location /trueasync-status>
    SetHandler trueasync-status
</Location>'
rows=$ROOT/build/ab/ops-rows.txt; mkdir -p "$(dirname "$rows")"; : > "$rows"
one() {   # label so extra
  local out
  out=$(BENCH_MODULE=$2 BENCH_LABEL="$1" BENCH_EXTRA="$3" "$ROOT/bench/run.sh" --http-only 2>/dev/null)
  echo "$out" | awk -v l="$1" -v r="$i" '$1 == l { print r, l, $2, $4, $7 }' >> "$rows"
}
for i in $(seq "$rounds"); do
  one before "$old" ""
  one bookkeeping "$new" "$ops_conf"
  one maxreq0 "$new" ""
  one maxreq100 "$new" "TrueAsyncMaxRequests 100"
done
echo "round build requests/s p99_ms server_us/req"; cat "$rows"
med() { awk -v l="$1" '$2 == l { print $3 }' "$rows" | sort -n | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }'; }
b=$(med before) k=$(med bookkeeping) z=$(med maxreq0) h=$(med maxreq100)
awk -v b="$b" -v k="$k" -v z="$z" -v h="$h" 'BEGIN {
  printf "median requests/s: before %d, with the bookkeeping %d (%+.1f %%)\n", b, k, (k / b - 1) * 100
  printf "median requests/s: TrueAsyncMaxRequests 0 %d, 100 %d (%+.1f %%)\n", z, h, (h / z - 1) * 100 }'
