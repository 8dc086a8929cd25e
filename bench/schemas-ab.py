#!/usr/bin/env python3
# A/B of the schema paths between two builds on the same data, rounds interleaved so that both see the same
# load (docs/BENCHMARKS.md, "Schemas"): usage: python3 bench/schemas-ab.py BEFORE_DIR AFTER_DIR [ROUNDS], each
# DIR a built checkout (npm run build), with node on PATH and the input written by `node bench/schemas.js`
# (bench/.data/readings-1000000.jsonl). Prints the median wall time of each step and after/before.
import json, os, shutil, statistics, subprocess, sys, tempfile, time
before, after = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
data = os.path.join(os.path.dirname(os.path.abspath(__file__)), '.data', 'readings-1000000.jsonl')
work = tempfile.mkdtemp(prefix='spool-schemas-ab-')
schema = os.path.join(work, 'reading.avsc')
with open(schema, 'w') as f:
    json.dump({'type': 'record', 'name': 'Reading', 'fields': [{'name': 'sensor', 'type': 'string'}, {'name': 'seq', 'type': 'long'}, {'name': 'value', 'type': 'double'},
               {'name': 'ok', 'type': 'boolean'}, {'name': 'unit', 'type': {'type': 'enum', 'name': 'Unit', 'symbols': ['C', 'F', 'K']}}]}, f)
steps = {
    'produce': f'$spool produce plain < {data}',
    'produce --value-schema': f'$spool produce typed --value-schema {schema} < {data}',
    'consume': '$spool consume plain | wc -l',
    'consume --decode': '$spool consume typed --decode | wc -l',
}
times = {build: {step: [] for step in steps} for build in (before, after)}
for _ in range(rounds):
    for build in (before, after):
        home = os.path.join(work, 'home')
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)
        env = dict(os.environ, SPOOL_HOME=home, NO_COLOR='1', spool=f'node {os.path.join(build, "bin", "run.js")}')
        env.pop('SPOOL_BROKER', None)
        for step, script in steps.items():
            start = time.perf_counter()
            out = subprocess.run(['bash', '-o', 'pipefail', '-c', script], env=env, check=True, capture_output=True, text=True).stdout.strip()
            times[build][step].append(time.perf_counter() - start)
            if 'wc -l' in script and out != '1000000':
                sys.exit(f'{step}: {out} lines')
shutil.rmtree(work, ignore_errors=True)
print('| step | before | after | after / before |')
print('|---|---:|---:|---:|')
for step in steps:
    b, a = statistics.median(times[before][step]), statistics.median(times[after][step])
    print(f'| {step} | {b:.2f} s ({1e6 / b:,.0f}/s) | {a:.2f} s ({1e6 / a:,.0f}/s) | {a / b:.2f} |')
