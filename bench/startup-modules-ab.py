#!/usr/bin/env python3
# Start-up of two builds, rounds interleaved (A, B, A, B...) so that both see the same load
# (docs/BENCHMARKS.md, "Issue 14, sixth part"): python3 bench/startup-modules-ab.py A_DIR B_DIR [ROUNDS] [BROKER]
# Each DIR a built checkout (npm run build), node on PATH. Commands: `node -e 0` (the floor), --version,
# consume -c 0 and produce from /dev/null on a store of 1,000 records, topic list; with BROKER
# (host:port), also one record into Kafka. Wall is spawn to exit; CPU is user + system of the process
# and its children, the counters /usr/bin/time prints, read with wait4 to the microsecond (time's own
# output has 10 ms steps). Node's compile cache on (as bin/run.js does), one directory per build, warmed.
import os, shutil, statistics, subprocess, sys, tempfile, time

a_dir, b_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
broker = sys.argv[4] if len(sys.argv) > 4 else None
work = tempfile.mkdtemp(prefix='spool-startup-ab-')
db = os.path.join(work, 'spool.db')
env = dict(os.environ, SPOOL_HOME=work, NO_COLOR='1')
for name in ('SPOOL_BROKER', 'DEBUG', 'NODE_DISABLE_COMPILE_CACHE', 'NODE_OPTIONS'):
    env.pop(name, None)
commands = {
    'node -e 0': (['node', '-e', '0'], None),
    '--version': (['--version'], None),
    f'consume T -c 0 -b file:DB': (['consume', 'T', '-c', '0', '-b', f'file:{db}'], None),
    'topic list': (['topic', 'list'], None),
    'produce T -b file:DB < /dev/null': (['produce', 'T', '-b', f'file:{db}'], None),
}
if broker:
    commands[f'echo x | produce one -b kafka://BROKER'] = (['produce', 'one', '-b', f'kafka://{broker}'], b'x\n')


def run(build, argv, data):
    full = argv if argv[0] == 'node' else ['node', os.path.join(build, 'bin', 'run.js'), *argv]
    cache = dict(env, NODE_COMPILE_CACHE=os.path.join(work, 'cc-' + ('a' if build == a_dir else 'b')))
    start = time.perf_counter()
    p = subprocess.Popen(full, env=cache, stdin=subprocess.PIPE if data else subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if data:
        p.stdin.write(data)
        p.stdin.close()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f'{" ".join(full)}: exit {p.returncode}: {err.decode()}')
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000


subprocess.run(['bash', '-c', f'seq 1000 | node {a_dir}/bin/run.js produce T -b file:{db}'], env=env, check=True, capture_output=True)
if broker:
    subprocess.run(['node', f'{a_dir}/bin/run.js', 'topic', 'create', 'one', '-b', f'kafka://{broker}'], env=env, capture_output=True)
times = {(b, c): [] for b in (a_dir, b_dir) for c in commands}
for build in (a_dir, b_dir):
    for name, (argv, data) in commands.items():
        run(build, argv, data)
for _ in range(rounds):
    for name, (argv, data) in commands.items():
        for build in (a_dir, b_dir):
            times[(build, name)].append(run(build, argv, data))
shutil.rmtree(work, ignore_errors=True)

med = lambda xs, i: statistics.median(x[i] for x in xs)
print(f'A = {a_dir}\nB = {b_dir}\n{rounds} rounds, medians\n')
print('| command | A wall | B wall | B/A wall | A CPU | B CPU | B/A CPU |')
print('|---|---:|---:|---:|---:|---:|---:|')
for name in commands:
    wa, wb, ca, cb = med(times[(a_dir, name)], 0), med(times[(b_dir, name)], 0), med(times[(a_dir, name)], 1), med(times[(b_dir, name)], 1)
    print(f'| {name} | {wa:.1f} ms | {wb:.1f} ms | {wb / wa:.2f} | {ca:.1f} ms | {cb:.1f} ms | {cb / ca:.2f} |')
