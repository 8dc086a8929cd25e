// The floor for a produce of lines: Node reading stdin and splitting it at each newline, nothing else
// (no record, no store). Prints the line count. Reads stdin as spool produce does: a regular file
// through its own read stream with 256 KiB chunks, a pipe through process.stdin.
import {createReadStream, fstatSync} from 'node:fs'

const input = fstatSync(0).isFile() ? createReadStream('', {fd: 0, highWaterMark: 256 * 1024}) : process.stdin
let lines = 0
for await (const chunk of input) {
  for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++
}
process.stdout.write(`${lines}\n`)
