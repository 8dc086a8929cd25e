/** 'SPOL': marks an SQLite file as a spool store, so spool never writes into someone else's database. */
export const APPLICATION_ID = 0x53504f4c
export const SCHEMA_VERSION = 9

/**
 * Version 1. Offsets are assigned from partitions.next_offset inside the write transaction, so they are
 * dense and never reused, even after retention deletes the oldest batches. Topic ids are AUTOINCREMENT
 * so a follower of a deleted topic can never read a new topic that took its name.
 */
export const SCHEMA_V1 = `
CREATE TABLE topics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  partitions INTEGER NOT NULL,
  retention_ms INTEGER,
  retention_bytes INTEGER,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE partitions (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  start_offset INTEGER NOT NULL DEFAULT 0,
  next_offset INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (topic_id, partition)
) STRICT, WITHOUT ROWID;

CREATE TABLE batches (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  record_count INTEGER NOT NULL,
  min_timestamp INTEGER NOT NULL,
  max_timestamp INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (topic_id, partition, base_offset)
) STRICT;
`

/** Version 2: consumer groups. Committed offsets live beside the records so a local pipe can commit both at once. */
export const SCHEMA_V2 = `
CREATE TABLE group_offsets (
  group_name TEXT NOT NULL,
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  committed INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (group_name, topic_id, partition)
) STRICT, WITHOUT ROWID;
`

/**
 * Version 3: a CRC-32C of every batch blob, checked on every read. Batches written before it have none
 * (NULL) and are checked for their structure only.
 */
export const SCHEMA_V3 = `
ALTER TABLE batches ADD COLUMN crc INTEGER;
`

/** The first version whose batches carry a checksum. */
export const CHECKSUM_VERSION = 3

/**
 * Version 4: the store is a schema registry of its own, with the Confluent registry's model: a schema has
 * one global id (the same text, type and references always get the same one), and a subject lists
 * versions, each pointing at a schema. Schemas copied from another registry keep that registry's ids, so
 * the framed bytes copied with them (which name the id) read back unchanged.
 */
export const SCHEMA_V4 = `
CREATE TABLE registry_schemas (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  schema TEXT NOT NULL,
  refs TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX registry_schemas_by_text ON registry_schemas (type, schema, refs);

CREATE TABLE registry_subjects (
  subject TEXT NOT NULL,
  version INTEGER NOT NULL,
  schema_id INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (subject, version)
) STRICT, WITHOUT ROWID;
`

/** The first version that keeps schemas. */
export const REGISTRY_VERSION = 4

/**
 * Version 5: a key index. Every batch written from this version on has a row here, in the same
 * transaction as the batch: a Bloom filter of its keys (key-index.ts; empty for a batch without keys).
 * A read by key walks these small rows instead of the batches and decodes only the batches whose filter
 * may hold the key. Batches written before have no row and are read
 * (and filtered) as they are, so the migration writes nothing but the table, whatever the store's size.
 * The rows sit in their own table, not in a column of batches, because a column after the batch blob
 * can only be reached by walking the blob's overflow pages.
 */
export const SCHEMA_V5 = `
CREATE TABLE batch_keys (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  record_count INTEGER NOT NULL,
  filter BLOB NOT NULL,
  PRIMARY KEY (topic_id, partition, base_offset)
) STRICT, WITHOUT ROWID;
`

/** The first version with the key index. */
export const KEY_INDEX_VERSION = 5

/**
 * Cursors (spool consume|tail|replay|pipe --cursor): named read positions kept in this store for a
 * source that may be anywhere (this store, another store file, a Kafka cluster), so reading commits
 * nothing to the source. A position is keyed by the source's identity (file:PATH or kafka://brokers,
 * sorted), topic and partition; topic_id is the topic's identity when the position was stored (the
 * local row id and creation time, Kafka's topic id), so a topic deleted and created again under the
 * same name is seen as new rather than read from a stale offset. Only creates a table: it applies after
 * any other migration, whatever its number.
 */
export const SCHEMA_CURSORS = `
CREATE TABLE cursor_positions (
  cursor_name TEXT NOT NULL,
  source TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  position INTEGER NOT NULL,
  topic_id TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (cursor_name, source, topic, partition)
) STRICT, WITHOUT ROWID;
`

/** The first version that keeps cursors. */
export const CURSOR_VERSION = 6

/**
 * Version 7: a record map per keyed batch (key-map.ts), written with its batch_keys row: each record's
 * key hash, where each group of records lies, and a CRC-32C per 8 KiB of the blob, so a read by key
 * reads and verifies only the parts of a candidate batch that hold its records. Batches written before
 * have no map and are read whole; the migration only creates the table. Its own table, for the reason
 * batch_keys has its own: the Bloom filter walk reads batch_keys' pages, which stay small and packed.
 */
export const SCHEMA_V7 = `
CREATE TABLE batch_key_map (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  map BLOB NOT NULL,
  PRIMARY KEY (topic_id, partition, base_offset)
) STRICT, WITHOUT ROWID;
`

/** The first version with record maps. */
export const KEY_MAP_VERSION = 7

/**
 * Version 8: key postings (key-postings.ts): for each segment of batches that follow on, one row per
 * key-hash bucket holding keys, found through an index by (partition, bucket, segment): a read by key
 * reads one bucket's rows, about 1/64 of the index, instead of every batch's Bloom filter. The rows
 * themselves are appended (a rowid table): a segment's 64 rows land on new pages at the end, where a
 * table kept in bucket order (the first layout of version 8, WITHOUT ROWID, still read and written the
 * same) rewrote 64 leaf pages spread over the table per segment, and put most of each ~50 KB row in an
 * overflow page of its own: twice the postings' pages written into a store of 3M records. A keyed batch
 * written from this version on has a batch_keys row whose filter is one byte, 00 ("posted"), and a record
 * map of format 2 (no key hashes), both written with its segment; a keyless batch an empty filter, as
 * before. Until then it has no row and a read by key reads it whole (a row 01, "pending", read the same
 * way, is what spool wrote before its writers held the rows back for their segment). Batches written before keep
 * their filters and maps and are read through them; the migration only creates the table.
 */
export const SCHEMA_V8 = `
CREATE TABLE batch_key_postings (
  topic_id INTEGER NOT NULL,
  partition INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  postings BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX batch_key_postings_by_bucket ON batch_key_postings (topic_id, partition, bucket, first_offset);
`

/** The first version with key postings. */
export const KEY_POSTINGS_VERSION = 8

/**
 * Version 9: batches of plain lines keep a newline after each value (batch-codec.ts, NEWLINE_SEPARATED),
 * so that a read copies the values column as it stands into the default output. No table changes: the
 * version tells a spool that does not know the layout to refuse the store (upgrade), rather than call
 * such batches damaged. Batches written before are read as before.
 */
export const SCHEMA_V9 = ''

/** The first version whose batches may keep a newline after each value. */
export const NEWLINE_SEPARATED_VERSION = 9

/** What takes a store from version N-1 to N; applied in order inside one immediate transaction. */
export const MIGRATIONS: Record<number, string> = {
  1: SCHEMA_V1,
  2: SCHEMA_V2,
  3: SCHEMA_V3,
  4: SCHEMA_V4,
  [KEY_INDEX_VERSION]: SCHEMA_V5,
  [CURSOR_VERSION]: SCHEMA_CURSORS,
  [KEY_MAP_VERSION]: SCHEMA_V7,
  [KEY_POSTINGS_VERSION]: SCHEMA_V8,
  [NEWLINE_SEPARATED_VERSION]: SCHEMA_V9,
}
