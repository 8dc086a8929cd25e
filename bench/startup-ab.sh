#!/bin/bash
# Start-up of two builds, interleaved (A, B, A, B...) so that a busy machine hits both alike:
#   bench/startup-ab.sh ROUNDS A/bin/run.js B/bin/run.js [BROKER]
# Local: `--version`, `topic list`, `consume T -c 0`; with BROKER (host:port), also one record into an
# existing Kafka topic (`echo x | spool produce T -b kafka://BROKER`), with the network part (first connect
# to exit, from bench/socket-trace.cjs). Prints medians: wall (spawn to exit) and CPU (user+system of the
# process, bench/cpu-at-exit.cjs). Compile cache on, in a directory of this run, warmed once per build.
set -e
rounds=$1; a=$2; b=$3; broker=$4
bench=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SPOOL_HOME=$work SPOOL_CONFIG_HOME=$work/config NO_COLOR=1 NODE_COMPILE_CACHE=$work/cc CPU_LOG=$work/cpu
unset SPOOL_BROKER DEBUG NODE_DISABLE_COMPILE_CACHE
echo x | node "$a" produce T 2>/dev/null
commands=("--version" "topic list" "consume T -c 0")
if [ -n "$broker" ]; then
  topic=startup-ab-$$
  node "$a" topic create $topic -b kafka://$broker >/dev/null 2>&1
  commands+=("produce $topic -b kafka://$broker")
fi
label() { case "$1" in produce*) echo "echo_x_|_produce_T_-b_kafka";; *) echo "${1// /_}";; esac; }
build() { [ "$1" = "$a" ] && echo A || echo B; }
for c in "${commands[@]}"; do for bin in "$a" "$b"; do echo x | node "$bin" $c >/dev/null 2>&1; done; done
for r in $(seq "$rounds"); do
  for c in "${commands[@]}"; do for bin in "$a" "$b"; do
    tag="$(build "$bin")|$(label "$c")"
    s=$(date +%s%N)
    echo x | CPU_TAG=$tag node --require "$bench/cpu-at-exit.cjs" --require "$bench/socket-trace.cjs" "$bin" $c >/dev/null 2>"$work/trace"
    e=$(date +%s%N)
    net=$(awk '/ connect#1 /{c=$1} / exit$/{x=$1} END {print (c == "" ? "" : x - c)}' "$work/trace")
    echo "$tag $(( (e - s) / 1000 )) $net" >>"$work/wall"
  done; done
done
echo "A = $a"
echo "B = $b"
node -e '
const fs = require("node:fs")
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
const cpu = {}, wall = {}, net = {}
for (const line of fs.readFileSync(process.argv[1], "utf8").trim().split("\n")) { const [k, c] = line.split(" "); (cpu[k] ??= []).push(+c) }
for (const line of fs.readFileSync(process.argv[2], "utf8").trim().split("\n")) { const [k, w, n] = line.split(" "); (wall[k] ??= []).push(+w / 1000); if (n) (net[k] ??= []).push(+n) }
console.log(`| command | build | wall | CPU | network part |\n|---|---|---|---|---|`)
const names = [...new Set(Object.keys(wall).map((k) => k.slice(2)))]
for (const name of names) for (const b of ["A", "B"]) {
  const k = `${b}|${name}`
  console.log(`| ${name.replaceAll("_", " ").replace("|", "\\|")} | ${b} | ${median(wall[k]).toFixed(1)} ms | ${median(cpu[k]).toFixed(1)} ms | ${net[k] ? median(net[k]).toFixed(1) + " ms" : ""} |`)
}
for (const name of names) console.log(`- ${name.replaceAll("_", " ")}: B/A wall ${(median(wall["B|" + name]) / median(wall["A|" + name])).toFixed(2)}, CPU ${(median(cpu["B|" + name]) / median(cpu["A|" + name])).toFixed(2)} (${wall["A|" + name].length} rounds)`)
' "$CPU_LOG" "$work/wall"
