import {clockTime, Outage} from '../core/outage.js'
import {currentStreams} from '../io/streams.js'

/**
 * The Outage of a following command (-f), saying on stderr, once per change of state, that Kafka went
 * away (with how many records wait to be copied, when the command can count them) and that it is back:
 *   spool: Kafka unreachable since 12:03:01; 15,230 records waiting
 *   spool: Kafka back; forwarding
 */
export function outageWithLines(signal: AbortSignal, doing: string, waiting?: () => Promise<number | undefined>): Outage {
  const err = () => currentStreams().err
  return new Outage(signal, {
    async down(since) {
      const count = await waiting?.().catch(() => undefined)
      const backlog = count === undefined ? 'waiting for it' : `${count.toLocaleString('en-US')} record${count === 1 ? '' : 's'} waiting`
      err().write(`spool: Kafka unreachable since ${clockTime(since)}; ${backlog}\n`)
    },
    up() {
      err().write(`spool: Kafka back; ${doing}\n`)
    },
  })
}
