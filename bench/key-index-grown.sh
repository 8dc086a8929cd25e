#!/usr/bin/env bash
# The key index's produce cost into a store that already holds records: 1M keyed records produced into a
# copy of a 3M-record store, by two builds with the index (A, B) and by B without it, in alternating order.
# Usage, from the repository (after `node bench/key-index.js` wrote bench/.data/keyed-solo-10000000-100000.txt):
#   bench/key-index-grown.sh ROUNDS BIN_A BIN_B      e.g. bench/key-index-grown.sh 12 /tmp/before/bin/run.js bin/run.js
# Prints one line per run: kind, wall s, user s, system s (GNU time).
set -euo pipefail
rounds=$1 binA=$2 binB=$3
data=bench/.data/keyed-solo-10000000-100000.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -3000000 "$data" >"$work/base.txt"
sed -n 3000001,4000000p "$data" >"$work/next.txt"
node "$binA" produce p -K : -b "file:$work/a.db" <"$work/base.txt" 2>/dev/null
node "$binB" produce p -K : -b "file:$work/b.db" <"$work/base.txt" 2>/dev/null
SPOOL_BENCH_NO_KEY_INDEX=1 node "$binB" produce p -K : -b "file:$work/none.db" <"$work/base.txt" 2>/dev/null
run() {
  local kind=$1 bin=$binB
  [ "$kind" = a ] && bin=$binA
  rm -f "$work"/run.db*
  cp "$work/$kind.db" "$work/run.db"
  sync
  if [ "$kind" = none ]; then export SPOOL_BENCH_NO_KEY_INDEX=1; else unset SPOOL_BENCH_NO_KEY_INDEX; fi
  /usr/bin/time -f "$kind %e %U %S" node "$bin" produce p -K : -b "file:$work/run.db" <"$work/next.txt" 2>&1 >/dev/null | tail -1
}
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then order="a b none"; else order="none b a"; fi
  for kind in $order; do run "$kind"; done
done
