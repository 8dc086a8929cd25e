// Loaded with `node --require bench/cpu-at-exit.cjs ...` by bench/startup-ab.sh: appends "TAG CPU_MS" to
// $CPU_LOG at exit, the process's own user+system time (process.cpuUsage, microsecond resolution, where
// GNU time gives 10 ms).
process.on('exit', () => {
  const {user, system} = process.cpuUsage()
  require('node:fs').appendFileSync(process.env.CPU_LOG, `${process.env.CPU_TAG} ${(user + system) / 1000}\n`)
})
