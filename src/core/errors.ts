/**
 * The one mapping from failures to exit codes. Every error spool means to show a user is a SpoolError;
 * anything else is a bug and exits 1 with its message (and a stack trace only under --debug).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const

export class SpoolError extends Error {
  readonly exitCode: number
  /** One short sentence telling the user what would work instead. */
  readonly hint?: string

  constructor(message: string, options: {exitCode?: number; hint?: string; cause?: unknown} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.exitCode = options.exitCode ?? ExitCode.failure
    this.hint = options.hint
  }
}

/** The command line itself is wrong: a flag, an argument, a position that does not parse. Exit 2. */
export class UsageError extends SpoolError {
  constructor(message: string, hint?: string) {
    super(message, {exitCode: ExitCode.usage, hint})
  }
}

export class UnknownTopicError extends SpoolError {
  constructor(readonly topic: string, where: string) {
    super(`topic '${topic}' does not exist in ${where}`, {hint: `create it with: spool topic create ${topic}`})
  }
}

/** topic create of a name that is taken; a writer that creates its topic takes one another process just made. */
export class TopicExistsError extends SpoolError {
  constructor(readonly topic: string, where: string) {
    super(`topic '${topic}' already exists in ${where}`)
  }
}

export class UnknownGroupError extends SpoolError {
  constructor(readonly group: string, where: string) {
    super(`consumer group '${group}' has no committed offsets in ${where}`, {hint: 'see the groups with: spool group list'})
  }
}

/** topic alter -p N where N is not more than the topic has: partitions can only be added. */
export class PartitionsNotAddedError extends UsageError {
  constructor(topic: string, has: number, asked: number) {
    super(
      asked === has
        ? `topic '${topic}' already has ${has} partition${has === 1 ? '' : 's'}`
        : `topic '${topic}' has ${has} partition${has === 1 ? '' : 's'}; partitions cannot be removed, so -p ${asked} is refused`,
      `partitions can only be added: -p ${has + 1} or more`,
    )
  }
}

export class UnknownCursorError extends SpoolError {
  constructor(readonly cursor: string, where: string) {
    super(`cursor '${cursor}' has no positions in ${where}`, {hint: 'see the cursors with: spool cursor list'})
  }
}

/** Bad data on stdin. `stored` tells how many records before the bad one were committed. */
export class InputError extends SpoolError {
  constructor(message: string, readonly stored: number) {
    super(message)
  }
}

/** An append that stored part of its records before failing (Kafka has no transaction spanning them). */
export class PartialAppendError extends SpoolError {
  constructor(message: string, readonly stored: number, options: {hint?: string; cause?: unknown} = {}) {
    super(message, options)
  }
}

/**
 * Kafka could not be reached, or is not serving yet (no leader, coordinator loading): a failure that
 * waiting fixes. With -f the streaming commands wait these out; anything else still stops them at once.
 */
export class UnreachableError extends SpoolError {}

/** Whether waiting could fix this failure: an UnreachableError anywhere in it (a partial append wraps one). */
export function isUnreachable(error: unknown): boolean {
  for (const {error: e} of errorTree(error)) if (e instanceof UnreachableError) return true
  return false
}

/** The store a command was writing to was removed (or replaced) under it: what it wrote since is gone. */
export class StoreGoneError extends SpoolError {}

/** stdout (or the stream a command writes its data to) refused a write: a full disk, an I/O error. */
export class OutputError extends SpoolError {
  constructor(cause: NodeJS.ErrnoException) {
    super(`cannot write the output: ${cause.message}`, {cause})
  }
}

export class InterruptedError extends SpoolError {
  constructor(message: string, exitCode: number = ExitCode.interrupted) {
    super(message, {exitCode})
  }
}

/**
 * An error with everything nested in it, depth first: its `cause` and the `errors` of an aggregate, the
 * way network clients wrap their failures several levels deep. Each node once; at most 10 levels.
 */
export function* errorTree(error: unknown, depth = 0, seen = new Set<unknown>()): Generator<{error: Record<string, unknown>; depth: number}> {
  if (!error || typeof error !== 'object' || seen.has(error) || depth > 10) return
  seen.add(error)
  const node = error as Record<string, unknown>
  yield {error: node, depth}
  if (node.cause) yield* errorTree(node.cause, depth + 1, seen)
  for (const inner of Array.isArray(node.errors) ? node.errors : []) yield* errorTree(inner, depth + 1, seen)
}

/** Formats an error as the single line spool prints on stderr. */
export function describeError(error: unknown): string {
  if (error instanceof SpoolError) return error.hint ? `${error.message} (${error.hint})` : error.message
  if (error instanceof Error) return error.message
  return String(error)
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof SpoolError) return error.exitCode
  const oclifExit = (error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
  if (typeof oclifExit === 'number') return oclifExit
  return ExitCode.failure
}
