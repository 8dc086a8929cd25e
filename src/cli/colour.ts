import {Chalk, supportsColor, supportsColorStderr} from 'chalk'

/**
 * Colour for people, never for pipes: chalk's detection (terminal or not, FORCE_COLOR), plus NO_COLOR,
 * which chalk 5 does not read itself (no-color.org: set and not empty means no colour, unless
 * FORCE_COLOR asks for it).
 */
function level(detected: {level: number} | false, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR && env.FORCE_COLOR === undefined) return 0
  return (detected ? detected.level : 0) as 0 | 1 | 2 | 3
}

/** For what goes to stdout (tables, describe) and to stderr (the error line). */
export const paint = new Chalk({level: level(supportsColor, process.env)})
export const paintStderr = new Chalk({level: level(supportsColorStderr, process.env)})
