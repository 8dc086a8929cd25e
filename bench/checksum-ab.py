#!/usr/bin/env python3
# A/B of the local store before and after checksums (docs/BENCHMARKS.md, "What the checksums cost"):
# usage: python3 bench/checksum-ab.py NODE ROUNDS, with the commit before in /tmp/wt-before (git worktree add
# /tmp/wt-before ac8a62c; npm ci there) and 1M 100-byte lines in /tmp/benchdata/lines.txt.
import subprocess, time, statistics, os, shutil, sys
node = sys.argv[1]
variants = {'before (no CRC)': '/tmp/wt-before/bin/run.js', 'after (CRC-32C)': '/work/main/bin/run.js'}
res = {k: {'produce': [], 'consume': [], 'json': []} for k in variants}
for r in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3):
    for name, bin in variants.items():
        home = f'/tmp/ab-{abs(hash(name))}'
        shutil.rmtree(home, ignore_errors=True); os.makedirs(home)
        env = dict(os.environ, SPOOL_HOME=home, NO_COLOR='1')
        t = time.perf_counter(); subprocess.run(f'{node} {bin} produce bench < /tmp/benchdata/lines.txt', shell=True, env=env, check=True, stderr=subprocess.DEVNULL); res[name]['produce'].append(time.perf_counter() - t)
        t = time.perf_counter(); out = subprocess.run(f'{node} {bin} consume bench | wc -l', shell=True, env=env, check=True, capture_output=True, text=True).stdout.strip(); res[name]['consume'].append(time.perf_counter() - t)
        assert out == '1000000', out
        t = time.perf_counter(); subprocess.run(f'{node} {bin} consume bench --json | wc -l', shell=True, env=env, check=True, capture_output=True); res[name]['json'].append(time.perf_counter() - t)
        shutil.rmtree(home, ignore_errors=True)
for name in variants:
    print(name, {k: f'{statistics.median(v):.3f}s (runs {", ".join(f"{x:.2f}" for x in v)})' for k, v in res[name].items()})
b, a = res['before (no CRC)'], res['after (CRC-32C)']
print('ratios after/before:', {k: f'{statistics.median(a[k])/statistics.median(b[k]):.2f}' for k in a})
