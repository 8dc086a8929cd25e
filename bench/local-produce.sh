#!/usr/bin/env bash
# Local produce side by side with kcat into Kafka and Node's own read-and-split, interleaved round by round
# (issue 14): each round runs, one after the other, `spool produce` of BASE (another build, e.g. main's)
# and of this checkout into a fresh store, bench/read-split.js, and kcat into a fresh topic of a broker
# started by `node scripts/kafka-broker.mjs start`. Prints one line per command and round:
#   round command wall_s user_s sys_s peak_rss_kib
#
#   bench/local-produce.sh ROUNDS KAFKA_PORT [BASE_CHECKOUT] [LINES_FILE]
#
# KAFKA_PORT - leaves out kcat (and read-and-split): the two produces only, for more rounds in the time.
# LINES_FILE defaults to bench/.data/lines-1000000.txt (`npm run bench` writes it). Run `npm run build`
# first (and in BASE_CHECKOUT).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:?rounds}
port=${2:?kafka port}
base=${3:-}
lines=${4:-$here/bench/.data/lines-1000000.txt}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
timed() { /usr/bin/time -f "%e %U %S %M" -o "$scratch/time" "$@" >/dev/null 2>"$scratch/err" || { cat "$scratch/err" >&2; exit 1; }; cat "$scratch/time"; }
run_id=$$
for round in $(seq "$rounds"); do
  if [ -n "$base" ]; then
    rm -f "$scratch"/b.db*
    echo "$round produce-base $(timed node "$base/bin/run.js" produce T -b "file:$scratch/b.db" < "$lines")"
  fi
  rm -f "$scratch"/n.db*
  echo "$round produce $(timed node "$here/bin/run.js" produce T -b "file:$scratch/n.db" < "$lines")"
  [ "$port" = - ] && continue
  echo "$round read-split $(timed node "$here/bench/read-split.js" < "$lines")"
  topic="lp-$run_id-$round"
  node "$here/bin/run.js" topic create "$topic" -b "kafka://127.0.0.1:$port" >/dev/null 2>&1
  echo "$round kcat $(timed kcat -P -b "127.0.0.1:$port" -t "$topic" -X acks=all -X enable.idempotence=true < "$lines")"
done
