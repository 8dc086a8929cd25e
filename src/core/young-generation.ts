/** V8's new space (two semi-spaces) stops growing once it is this large. */
const NEW_SPACE_CAP_BYTES = 16 * 1024 * 1024

let capped = false

/**
 * Keeps V8's young generation at two 8 MiB semi-spaces for a long produce or consume (issue 14: at
 * most 150 MiB of peak RSS whatever the topic size). V8 grows the new space whenever the objects that
 * survive its scavenges add up to its size, so a read or write of any length ends at the largest (two
 * 32 MiB semi-spaces here), however little is live: a 3M-record consume peaked at 180-190 MiB, 105 MiB
 * with `node --max-semi-space-size=8`, and used less CPU so (docs/BENCHMARKS.md, "Peak RSS of Kafka
 * produce and consume"). That flag only counts at start-up, which spool does not control (`node
 * bin/run.js`, npm's shims); the growth factor is read at each growth, so setting it to 1 once the new
 * space has reached the cap stops it there (Node 26's V8 grows on for a while after it: 16-35 MiB there,
 * against 64 uncapped; test/unit/young-generation.test.ts). Called per batch by Kafka's fetch and produce
 * loops and by the local store's append: a keyed produce into the local store (two views per record,
 * alive until their append) peaked at 177-183 MiB uncapped, 139 MiB with the flag. A Node whose V8
 * ignores the flag only grows as before.
 */
export function capYoungGeneration(): void {
  if (capped) return
  // The new space cannot have reached the cap while the whole heap is smaller: node:v8, about 4 ms to
  // load, waits until then (a one-record produce never needs it).
  if (process.memoryUsage().heapTotal < NEW_SPACE_CAP_BYTES) return
  const {getHeapSpaceStatistics, setFlagsFromString} = process.getBuiltinModule('node:v8')
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')
  if (newSpace && newSpace.space_size < NEW_SPACE_CAP_BYTES) return
  setFlagsFromString('--semi-space-growth-factor=1')
  capped = true
}
