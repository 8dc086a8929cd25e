#!/usr/bin/env bash
# produce --rate accuracy: RECORDS lines at RATE/s into a scratch store, 3 runs; the achieved rate is
# taken from the stored records' own timestamps (each paced slice is stamped when it is written), with
# the first burst (50 ms worth) left out, as the bucket lets it go at once.
# Usage: bench/produce-rate.sh [RATE] [RECORDS] [-b kafka://host:port]   (defaults: 10000 50000, local)
set -euo pipefail
rate=${1:-10000}
records=${2:-50000}
shift $(( $# > 2 ? 2 : $# ))
spool="node $(dirname "$0")/../bin/run.js"
export SPOOL_HOME=$(mktemp -d)
trap 'rm -rf "$SPOOL_HOME"' EXIT
seq 1 "$records" > "$SPOOL_HOME/lines"
burst=$(( rate * 50 / 1000 > 0 ? rate * 50 / 1000 : 1 ))
for run in 1 2 3; do
  topic="rate-$run-$$"
  start=$(date +%s.%N)
  $spool produce "$topic" --rate "$rate/s" "$@" < "$SPOOL_HOME/lines" 2>/dev/null
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  $spool consume "$topic" --format '%T\n' "$@" | awk -v wall="$wall" -v rate="$rate" -v burst="$burst" '
    NR == 1 { first = $1 } { last = $1; n++; per[$1]++ }
    END {
      span = (last - first) / 1000; instants = 0; for (t in per) instants++
      printf "%d records at --rate %d/s: first->last %.3f s (ideal %.3f s), achieved %.0f/s after the burst (%+.2f%%), %d distinct instants, wall %.2f s\n",
        n, rate, span, (n - burst) / rate, (n - burst) / span, ((n - burst) / span / rate - 1) * 100, instants, wall
    }'
done
