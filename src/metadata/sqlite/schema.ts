/**
 * The SQLite schema of the metadata store and its versioning through
 * `PRAGMA user_version`: 0 is a new file (the schema is created), 1 the first
 * layout, 2 this one (1 plus lease_epoch_floors, added in place: every
 * statement is CREATE ... IF NOT EXISTS), anything newer was written by a
 * later StreamHouse and is refused.
 *
 * All numbers are INTEGER (64-bit), all tables STRICT so a wrong type fails
 * loudly instead of being stored as text.
 * @internal
 */
import type Database from 'better-sqlite3';
import { UnsupportedVersionError } from '../../protocol/errors.js';

/** The layout this code reads and writes. */
export const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS topics (
  name TEXT PRIMARY KEY,
  partitions INTEGER NOT NULL,
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS partitions (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  high_watermark INTEGER NOT NULL DEFAULT 0,
  log_start_offset INTEGER NOT NULL DEFAULT 0,
  lease_holder TEXT,
  lease_epoch INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (topic, partition)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS segments (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  key TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  min_timestamp INTEGER NOT NULL,
  max_timestamp INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, base_offset),
  UNIQUE (topic, partition, key)
) STRICT;
-- Segments never overlap, so ordering by end offset is ordering by base offset;
-- this index answers "segments with endOffset > x" without a scan.
CREATE INDEX IF NOT EXISTS segments_by_end ON segments (topic, partition, end_offset);

CREATE TABLE IF NOT EXISTS producer_ids (
  producer_id INTEGER PRIMARY KEY AUTOINCREMENT,
  epoch INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS producer_states (
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  producer_id INTEGER NOT NULL,
  producer_epoch INTEGER NOT NULL,
  last_sequence INTEGER NOT NULL,
  last_base_offset INTEGER NOT NULL,
  last_record_count INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, producer_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS agents (
  agent_id TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS groups (
  group_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  member_ids TEXT NOT NULL,
  record TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS offsets (
  group_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  committed_offset INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  commit_time INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS offsets_by_topic ON offsets (topic);

-- The last lease epoch of each deleted topic: a topic created again under the
-- name starts its partitions there, so a lease of the old one never matches.
CREATE TABLE IF NOT EXISTS lease_epoch_floors (
  topic TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL
) STRICT;
`;

/**
 * Creates the schema on a new file, or checks the version of an existing one.
 * Runs under BEGIN IMMEDIATE so that two processes opening a new file at once
 * do not both create it.
 */
export function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new UnsupportedVersionError(
        `metadata file ${db.name} has schema version ${version}, newer than ${SCHEMA_VERSION}: upgrade StreamHouse`,
      );
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  apply.immediate();
}
