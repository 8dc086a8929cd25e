import {chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, isAbsolute, join} from 'node:path'
import {SpoolError, UsageError} from '../core/errors.js'
import type {KafkaSettings} from './kafka/settings.js'

/** A named cluster: its address and how to authenticate. Secrets live only in this file (mode 0600). */
export interface Context {
  broker: string
  settings?: KafkaSettings
  /** The cluster's schema registry. */
  registry?: RegistrySettings
}

/** Where a context's schema registry is and how to authenticate to it. */
export interface RegistrySettings {
  url: string
  username?: string
  password?: string
  /** A PEM file of certificate authorities to trust. */
  ca?: string
}

export interface ContextFile {
  current?: string
  contexts: Record<string, Context>
}

/** $SPOOL_CONFIG_HOME, else $XDG_CONFIG_HOME/spool, else ~/.config/spool. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPOOL_CONFIG_HOME) return env.SPOOL_CONFIG_HOME
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config')
  return join(base, 'spool')
}

export function contextsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'contexts.json')
}

export function readContexts(env: NodeJS.ProcessEnv = process.env): ContextFile {
  const path = contextsPath(env)
  if (!existsSync(path)) return {contexts: {}}
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as ContextFile
    return {current: parsed.current, contexts: parsed.contexts ?? {}}
  } catch (error) {
    throw new SpoolError(`${path} is not a valid contexts file: ${(error as Error).message}`, {hint: 'fix or remove it'})
  }
}

/** Written to a temporary file with mode 0600 and renamed, so the secrets are never readable by others, not even briefly. */
export function writeContexts(file: ContextFile, env: NodeJS.ProcessEnv = process.env): void {
  const path = contextsPath(env)
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, {mode: 0o600})
  chmodSync(temporary, 0o600)
  renameSync(temporary, path)
}

export const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export function validateContextName(name: string): string {
  if (!CONTEXT_NAME.test(name)) throw new UsageError(`'${name}' is not a valid context name`, 'use letters, digits, ".", "_" and "-"')
  return name
}

/** The context called `name` in `file`; a usage error naming it when there is none. */
export function requireContext(file: ContextFile, name: string): Context {
  const context = file.contexts[name]
  if (!context) throw new UsageError(`no context named '${name}'`, 'see them with: spool context list')
  return context
}

/** The context a command uses: --context / SPOOL_CONTEXT, else the current one; undefined when none. */
export function selectedContext(name: string | undefined, env: NodeJS.ProcessEnv = process.env): {name: string; context: Context} | undefined {
  const file = readContexts(env)
  if (name) return {name, context: requireContext(file, name)}
  const context = file.current === undefined ? undefined : file.contexts[file.current]
  return context && {name: file.current!, context}
}
