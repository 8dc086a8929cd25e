#!/usr/bin/env python3
# Interleaved A/B timing of shell commands: each round runs every command once, in the given order; prints
# the median wall time (with min and max), user, system and CPU (user + system) of each over the rounds.
#
#   python3 bench/ab.py ROUNDS "command A" "command B" ...
#
# In a command, DB becomes a store path of its own (/tmp/ab-N.db, its files removed before each run) and RND
# the round number (e.g. a Kafka topic per round, created beforehand). Wall time is measured here
# (perf_counter), not by /usr/bin/time, whose 10 ms steps hide differences of that size.
import subprocess, sys, statistics, os, glob, time, resource
n = int(sys.argv[1]); cmds = sys.argv[2:]
res = {i: [] for i in range(len(cmds))}
for r in range(n):
    for i, c in enumerate(cmds):
        for f in glob.glob(f'/tmp/ab-{i}.db*'): os.remove(f)
        c2 = c.replace('DB', f'/tmp/ab-{i}.db').replace('RND', str(r))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(['bash', '-c', c2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0: print('FAIL', c2, p.stderr.decode()[-300:]); sys.exit(1)
        res[i].append([wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime])
for i, c in enumerate(cmds):
    cols = list(zip(*res[i])); med = [statistics.median(x) for x in cols]
    print(f'{c[:70]:70s} wall {med[0]*1000:.0f} ms (min {min(cols[0])*1000:.0f} max {max(cols[0])*1000:.0f}) user {med[1]*1000:.0f} sys {med[2]*1000:.0f} cpu {statistics.median([a+b for a,b in zip(cols[1],cols[2])])*1000:.0f}')
