import {SpoolError} from '../core/errors.js'
import type {JsonBytes} from './json-bytes.js'

/** The three formats of the Confluent schema registry, spelled as its API spells them. */
export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

/** A named dependency of a schema (a Protobuf import, an Avro named type, a JSON Schema $ref). */
export interface SchemaReference {
  name: string
  subject: string
  version: number
}

/** A schema as a registry keeps it: its text, its format and what it refers to. */
export interface SchemaText {
  type: SchemaType
  schema: string
  references: SchemaReference[]
}

export interface RegisteredSchema extends SchemaText {
  id: number
}

/** Finds the text of a referenced schema (asked once per reference, recursively for theirs). */
export type ReferenceResolver = (reference: SchemaReference) => Promise<SchemaText>

/**
 * One compiled schema. Values cross it in each format's canonical JSON form (Avro's JSON encoding with
 * wrapped unions, Protobuf's proto3 JSON mapping, JSON Schema's document itself); integers beyond 2^53
 * are bigints on the way in and print exactly on the way out.
 */
export interface SchemaCodec {
  readonly type: SchemaType
  /**
   * The payload, which starts at `start` (after the 5-byte frame; for Protobuf with the message indexes)
   * and ends at `end` (default: the end of `bytes`), as one line of JSON. Offsets instead of a view: a
   * view per record costs more than decoding a small record.
   */
  decodeToJson(bytes: Uint8Array, start?: number, end?: number): string
  /**
   * decodeToJson, written as UTF-8 at `into.pos` (which it moves past the text) instead of returned as a
   * string; on a failure `into.pos` stays where it was. Optional: the decoder writes decodeToJson's
   * string for codecs without it.
   */
  decodeInto?(bytes: Uint8Array, start: number, end: number, into: JsonBytes): void
  /**
   * A canonical JSON value (parsed with parseJson) to its payload, after `prefix` (the caller's frame):
   * one buffer, so the framed bytes are built with one allocation.
   */
  encode(value: unknown, prefix?: Uint8Array): Buffer
  /**
   * Optional: the JSON text in bytes [start, end) of `text` straight to its payload after `prefix`, as
   * encode(parseJson(the text)) would write it, for the texts the codec reads without parsing them first;
   * undefined for any other (valid or not), which the caller then parses and hands to encode.
   */
  encodeText?(text: Buffer, start: number, end: number, prefix?: Uint8Array): Buffer | undefined
}

/** A value that does not fit its schema: `path` is where (".price", ".items[2].sku"), `message` what. */
export class SchemaValueError extends SpoolError {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(path ? `${path}: ${detail}` : detail)
  }
}

/** A schema text that does not parse or compile; `line`/`column` when the parser knows them (1-based). */
export class SchemaParseError extends SpoolError {
  constructor(
    readonly detail: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(line === undefined ? detail : `${line}:${column ?? 1}: ${detail}`)
  }
}

/** A payload that its schema cannot read (truncated, wrong message index, not valid for the type). */
export class SchemaPayloadError extends SpoolError {}
