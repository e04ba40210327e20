/**
 * The SQLite schema of the metadata store and its versioning through
 * `PRAGMA user_version`: 0 is a new file, each version up to SCHEMA_VERSION
 * is reached from the one before by its migration step (in one transaction),
 * anything newer was written by a later StreamHouse and is refused.
 *
 * - 1: the first layout.
 * - 2: producer states keep their earlier batches and when they were last
 *   updated (for expiry); rows of version 1 read as their last batch alone,
 *   updated at the time of the migration.
 * - 3: lease_epoch_floors, the last lease epoch of each deleted topic (a
 *   topic created again under its name starts its partitions past it).
 * - 4: users, who may authenticate to agents (a UserRecord as JSON, hashes only).
 * - 5: acls, the access-control entries (see aclRules.ts).
 * - 6: agents.kafka_address, where Kafka clients reach each agent (NULL for
 *   none, and for agents registered before it).
 * - 7: topics.id, each topic's id (see topicIds.ts); topics of version 6
 *   get a random one in the migration.
 *
 * All numbers are INTEGER (64-bit), all tables STRICT so a wrong type fails
 * loudly instead of being stored as text.
 * @internal
 */
import type Database from 'better-sqlite3';
import { UnsupportedVersionError } from '../../protocol/errors.js';
import { newTopicId } from '../topicIds.js';

/** The layout this code reads and writes. */
export const SCHEMA_VERSION = 7;

const SCHEMA_V1 = `
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
`;

/** Version 2: a producer's earlier batches ('[]' = the last one alone) and its last update, indexed for expiry. */
function migrateToV2(db: Database.Database, now: number): void {
  db.exec(`
ALTER TABLE producer_states ADD COLUMN earlier_batches TEXT NOT NULL DEFAULT '[]';
ALTER TABLE producer_states ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS producer_states_by_update ON producer_states (topic, partition, updated_at);
`);
  // States kept before expiry existed count as updated now: they expire a full period after the upgrade.
  db.prepare('UPDATE producer_states SET updated_at = ?').run(now);
}

/** Version 3: the last lease epoch of each deleted topic, where a topic created again under the name starts. */
function migrateToV3(db: Database.Database): void {
  db.exec(`
CREATE TABLE lease_epoch_floors (
  topic TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL
) STRICT;
`);
}

/** Version 4: users who may authenticate, each a UserRecord as JSON (derived secrets only). */
function migrateToV4(db: Database.Database): void {
  db.exec(`
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  record TEXT NOT NULL
) STRICT;
`);
}

/** Version 5: access-control entries, one row each; the whole row is the key. */
function migrateToV5(db: Database.Database): void {
  db.exec(`
CREATE TABLE IF NOT EXISTS acls (
  principal TEXT NOT NULL,
  permission TEXT NOT NULL,
  operation TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  pattern_type TEXT NOT NULL,
  resource_name TEXT NOT NULL,
  PRIMARY KEY (principal, permission, operation, resource_type, pattern_type, resource_name)
) STRICT, WITHOUT ROWID;
`);
}

/** Version 6: the Kafka address each agent registers (NULL: no Kafka, or registered by an older agent). */
function migrateToV6(db: Database.Database): void {
  db.exec('ALTER TABLE agents ADD COLUMN kafka_address TEXT;');
}

/** Version 7: every topic's id, unique; existing topics get a new random one. */
function migrateToV7(db: Database.Database): void {
  db.exec("ALTER TABLE topics ADD COLUMN id TEXT NOT NULL DEFAULT '';");
  const assign = db.prepare<[string, string]>('UPDATE topics SET id = ? WHERE name = ?');
  for (const { name } of db.prepare<[], { name: string }>('SELECT name FROM topics').all()) {
    assign.run(newTopicId(), name);
  }
  db.exec('CREATE UNIQUE INDEX topics_by_id ON topics (id);');
}

/** Migration steps by the version they produce: STEPS[v - 1] turns version v - 1 into v. */
const STEPS: ((db: Database.Database, now: number) => void)[] = [
  (db) => db.exec(SCHEMA_V1),
  migrateToV2,
  migrateToV3,
  migrateToV4,
  migrateToV5,
  migrateToV6,
  migrateToV7,
];

/**
 * Creates the schema on a new file, or brings an older one up to `target`
 * (SCHEMA_VERSION; tests build older files with a lower one), step by step.
 * Runs under BEGIN IMMEDIATE so that two processes opening a file at once do
 * not both migrate it.
 */
export function migrate(db: Database.Database, now: number, target = SCHEMA_VERSION): void {
  const apply = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new UnsupportedVersionError(
        `metadata file ${db.name} has schema version ${version}, newer than ${SCHEMA_VERSION}: upgrade StreamHouse`,
      );
    }
    if (version >= target) return;
    for (let v = version + 1; v <= target; v++) STEPS[v - 1]!(db, now);
    db.pragma(`user_version = ${target}`);
  });
  apply.immediate();
}
