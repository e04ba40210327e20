/** SQLite-specific behaviour: file format, locking across connections and processes, failures. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  InvalidProducerEpochError,
  InvalidRequestError,
  MetadataError,
  UnsupportedVersionError,
} from '../../src/protocol/errors.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { migrate, SCHEMA_VERSION } from '../../src/metadata/sqlite/schema.js';
import { isTopicId } from '../../src/metadata/topicIds.js';
import { DEFAULT_TOPIC_CONFIG } from '../../src/metadata/metadataStore.js';
import { expectDense, ManualClock, rejection, segment } from './contract/harness.js';
import { sqliteHarness } from './support/storeHarnesses.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** Worker thread code: takes the write lock of the file, says 'locked', and commits 100 ms after a message. */
const LOCK_HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.path);
db.exec('BEGIN IMMEDIATE');
parentPort.postMessage('locked');
parentPort.once('message', () => setTimeout(() => {
  db.exec('COMMIT');
  db.close();
  parentPort.postMessage('released');
}, 100));
`;

describe('SqliteMetadataStore', () => {
  let harness: Awaited<ReturnType<typeof sqliteHarness>>;
  beforeEach(async () => {
    harness = await sqliteHarness();
  });
  afterEach(async () => {
    await harness.cleanup();
  });

  it('creates a WAL file stamped with the schema version', async () => {
    const store = new SqliteMetadataStore({ path: harness.path });
    await store.createTopic('t', 1);
    await store.close();
    const raw = new Database(harness.path, { readonly: true });
    try {
      expect(raw.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
      expect(raw.pragma('journal_mode', { simple: true })).to.equal('wal');
      expect(raw.prepare('SELECT name, partitions FROM topics').all()).to.deep.equal([{ name: 't', partitions: 1 }]);
    } finally {
      raw.close();
    }
  });

  it('upgrades a version 3 file to 4, keeping its topics and adding an empty users table', async () => {
    const raw = new Database(harness.path);
    migrate(raw, 0, 3);
    raw.close();
    const old = new Database(harness.path);
    old.prepare("INSERT INTO topics (name, partitions, config, created_at) VALUES ('t', 1, '{}', 5)").run();
    old.close();
    const upgraded = new SqliteMetadataStore({ path: harness.path });
    try {
      expect((await upgraded.listTopics()).map((t) => t.name)).to.deep.equal(['t']);
      expect(await upgraded.listUsers()).to.deep.equal([]);
      const user = { name: 'u', scram: {}, tokenSha256: 'b'.repeat(64), createdAt: 1 };
      await upgraded.putUser(user);
      expect(await upgraded.getUser('u')).to.deep.equal(user);
    } finally {
      await upgraded.close();
    }
  });

  it('upgrades a version 2 file in place, keeping its data; a re-created topic starts past its leases', async () => {
    const raw = new Database(harness.path);
    migrate(raw, 0, 2);
    raw.close();
    const first = new SqliteMetadataStore({ path: harness.path });
    await first.createTopic('t', 1);
    await first.acquireLease('t', 0, 'agent-a', 10_000);
    await first.close();
    const downgraded = new Database(harness.path);
    downgraded.exec(
      `DROP TABLE lease_epoch_floors; DROP TABLE users; ALTER TABLE agents DROP COLUMN kafka_address;
       DROP INDEX topics_by_id; ALTER TABLE topics DROP COLUMN id`,
    );
    downgraded.pragma('user_version = 2');
    downgraded.close();
    const upgraded = new SqliteMetadataStore({ path: harness.path });
    try {
      expect((await upgraded.getPartition('t', 0)).leaseEpoch).to.equal(1);
      await upgraded.deleteTopic('t');
      await upgraded.createTopic('t', 1);
      expect((await upgraded.getPartition('t', 0)).leaseEpoch).to.equal(1);
    } finally {
      await upgraded.close();
    }
    const check = new Database(harness.path, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
    } finally {
      check.close();
    }
  });

  it('upgrades a version 3 file to one with the acls table, keeping its topics', async () => {
    const raw = new Database(harness.path);
    migrate(raw, 0, 3);
    raw.close();
    const first = new SqliteMetadataStore({ path: harness.path });
    await first.createTopic('t', 2);
    await first.close();
    const downgraded = new Database(harness.path);
    downgraded.exec(
      `DROP TABLE acls; DROP TABLE users; ALTER TABLE agents DROP COLUMN kafka_address;
       DROP INDEX topics_by_id; ALTER TABLE topics DROP COLUMN id`,
    );
    downgraded.pragma('user_version = 3');
    downgraded.close();
    const upgraded = new SqliteMetadataStore({ path: harness.path });
    try {
      expect((await upgraded.getTopic('t'))?.partitions).to.equal(2);
      const entry = {
        principal: 'alice',
        permission: 'allow',
        operation: 'produce',
        resourceType: 'topic',
        patternType: 'literal',
        resourceName: 't',
      } as const;
      expect(await upgraded.addAcl(entry)).to.equal(true);
      expect(await upgraded.listAcls()).to.deep.equal([entry]);
    } finally {
      await upgraded.close();
    }
  });

  it('upgrades a version 3 file: agents gain a Kafka address column, NULL for those already registered', async () => {
    const raw = new Database(harness.path);
    migrate(raw, 0, 3);
    raw.prepare("INSERT INTO agents (agent_id, address, started_at, last_heartbeat) VALUES ('old', 'h:1', 5, 9)").run();
    raw.close();
    const store = new SqliteMetadataStore({ path: harness.path, clock: () => 10 });
    try {
      expect(await store.listLiveAgents(100)).to.deep.equal([
        { agentId: 'old', address: 'h:1', startedAt: 5, lastHeartbeat: 9 },
      ]);
      await store.registerAgent({ agentId: 'new', address: 'h:2', kafkaAddress: 'h:9092', startedAt: 10 });
      expect((await store.listLiveAgents(100)).map((a) => a.kafkaAddress)).to.deep.equal(['h:9092', undefined]);
    } finally {
      await store.close();
    }
  });

  it('upgrades a version 6 file: every topic gets its own id, found by it; new topics get new ones', async () => {
    const raw = new Database(harness.path);
    migrate(raw, 0, 6);
    const insert = raw.prepare("INSERT INTO topics (name, partitions, config, created_at) VALUES (?, 1, '{}', 5)");
    for (const name of ['a', 'b']) insert.run(name);
    raw.close();
    const store = new SqliteMetadataStore({ path: harness.path });
    try {
      const [a, b] = await store.listTopics();
      expect([isTopicId(a!.id), isTopicId(b!.id), a!.id === b!.id]).to.deep.equal([true, true, false]);
      expect((await store.getTopicById(b!.id))?.name).to.equal('b');
      const c = await store.createTopic('c', 1);
      expect([a!.id, b!.id]).to.not.include(c.id);
      expect((await store.getTopic('a'))?.id).to.equal(a!.id);
    } finally {
      await store.close();
    }
  });

  it('refuses a file written by a newer schema', () => {
    const raw = new Database(harness.path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => new SqliteMetadataStore({ path: harness.path })).to.throw(
      UnsupportedVersionError,
      `has schema version ${SCHEMA_VERSION + 1}, newer than ${SCHEMA_VERSION}: upgrade StreamHouse`,
    );
  });

  it('waits for another connection holding the write lock, up to busyTimeoutMs', async () => {
    const store = new SqliteMetadataStore({ path: harness.path, busyTimeoutMs: 20_000, synchronous: 'normal' });
    await store.createTopic('first', 1);
    // Another thread takes the write lock, and lets it go 100 ms after it hears that the store is about to write.
    const holder = new Worker(LOCK_HOLDER, { eval: true, workerData: { path: harness.path } });
    try {
      expect((await once(holder, 'message'))[0]).to.equal('locked');
      const released = once(holder, 'message');
      holder.postMessage('release');
      // SQLite calls are synchronous: the store waits inside this call until the lock is free.
      expect((await store.createTopic('second', 1)).name).to.equal('second');
      expect((await released)[0]).to.equal('released');
      expect((await store.listTopics()).map((t) => t.name)).to.deep.equal(['first', 'second']);
    } finally {
      await holder.terminate();
      await store.close();
    }
  });

  it('fails retriably once busyTimeoutMs has passed with the write lock still held by another connection', async () => {
    const store = new SqliteMetadataStore({ path: harness.path, busyTimeoutMs: 50, synchronous: 'normal' });
    const raw = new Database(harness.path);
    raw.exec('BEGIN IMMEDIATE');
    try {
      const error = await rejection(store.createTopic('t', 1), MetadataError, 'METADATA_ERROR');
      expect(error.retriable).to.equal(true);
      expect((error.cause as { code?: string }).code).to.equal('SQLITE_BUSY');
      expect(await store.listTopics()).to.deep.equal([]); // readers are not blocked (WAL)
    } finally {
      raw.exec('COMMIT');
      raw.close();
    }
    expect((await store.createTopic('t', 1)).name).to.equal('t');
    await store.close();
  });

  it('stays correct with two processes writing the same file at once', async function () {
    this.timeout(60_000);
    const setup = new SqliteMetadataStore({ path: harness.path, synchronous: 'normal' });
    await setup.createTopic('shared', 3);
    await setup.close();
    const worker = join(here, 'support', 'sqliteWorker.ts');
    const spawnWorker = (agent: string, partition: number) =>
      run(process.execPath, ['--import', 'tsx', worker, harness.path, agent, String(partition), '150', '100'], {
        cwd: join(here, '..', '..'),
      });
    const outputs = await Promise.all([spawnWorker('agent-1', 1), spawnWorker('agent-2', 2)]);
    const results = outputs.map((o) => JSON.parse(o.stdout) as { wonContended: boolean; ids: number[]; hwm: number });

    expect(results.filter((r) => r.wonContended)).to.have.length(1);
    const ids = results.flatMap((r) => r.ids).sort((a, b) => a - b);
    expect(ids).to.deep.equal(Array.from({ length: 200 }, (_, i) => i + 1));
    const store = new SqliteMetadataStore({ path: harness.path });
    for (const partition of [1, 2]) {
      expect((await store.getPartition('shared', partition)).highWatermark).to.equal(results[partition - 1]!.hwm);
      const segments = await store.listSegments('shared', partition);
      expect(segments).to.have.length(150);
      expectDense(segments, 0, 300);
    }
    expect((await store.getPartition('shared', 0)).leaseEpoch).to.equal(1);
    await store.close();
  });

  it('migrates a version-1 file: producer states read as their last batch, expire a period after upgrade', async () => {
    const raw = new Database(harness.path);
    migrate(raw, 0, 1);
    raw
      .prepare("INSERT INTO topics (name, partitions, config, created_at) VALUES ('t', 1, ?, 1)")
      .run(JSON.stringify(DEFAULT_TOPIC_CONFIG));
    raw.prepare("INSERT INTO partitions (topic, partition, high_watermark) VALUES ('t', 0, 12)").run();
    raw
      .prepare(`INSERT INTO producer_states (topic, partition, producer_id, producer_epoch, last_sequence,
      last_base_offset, last_record_count) VALUES ('t', 0, 7, 1, 9, 10, 2)`)
      .run();
    raw.close();
    const clock = new ManualClock();
    const store = new SqliteMetadataStore({ path: harness.path, synchronous: 'normal', clock: clock.read });
    const old = { producerId: 7, producerEpoch: 1, lastSequence: 9, lastBaseOffset: 10, lastRecordCount: 2 };
    expect(await store.getProducerState('t', 0, 7)).to.deep.equal(old);
    const { epoch } = await store.acquireLease('t', 0, 'agent-a', 600_000);
    const commit = (base: number, producerIdExpirationMs: number) =>
      store.commitSegment({
        topic: 't',
        partition: 0,
        epoch,
        expectedHighWatermark: base,
        segment: segment('t', 0, base, base + 1),
        producerIdExpirationMs,
      });
    clock.advance(1000);
    await commit(12, 1000);
    expect(await store.getProducerState('t', 0, 7)).to.deep.equal(old);
    clock.advance(1);
    await commit(13, 1000);
    expect(await store.getProducerState('t', 0, 7)).to.equal(undefined);
    await store.close();
    const check = new Database(harness.path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).to.equal(SCHEMA_VERSION);
    check.close();
  });

  it('stops bumping a producer epoch at the int16 limit', async () => {
    const store = new SqliteMetadataStore({ path: harness.path, synchronous: 'normal' });
    const { producerId } = await store.allocateProducerId();
    const raw = new Database(harness.path);
    raw.prepare('UPDATE producer_ids SET epoch = 32766 WHERE producer_id = ?').run(producerId);
    raw.close();
    expect(await store.bumpProducerEpoch(producerId)).to.deep.equal({ producerId, producerEpoch: 32767 });
    const error = await rejection(
      store.bumpProducerEpoch(producerId),
      InvalidProducerEpochError,
      'INVALID_PRODUCER_EPOCH',
    );
    expect(error.message).to.equal(
      `producer id ${producerId} is at the last epoch (32767); allocate a new producer id`,
    );
    await store.close();
  });

  it('works in memory and rejects calls after close', async () => {
    const store = new SqliteMetadataStore({ path: ':memory:' });
    await store.createTopic('t', 2);
    expect((await store.listPartitions('t')).length).to.equal(2);
    await store.close();
    await store.close();
    const error = await rejection(store.listTopics(), MetadataError, 'METADATA_ERROR');
    expect(error.message).to.equal('SQLite metadata store :memory: is closed');
  });

  it('validates its options', () => {
    expect(() => new SqliteMetadataStore({ path: '' })).to.throw(InvalidRequestError, 'SQLite metadata path is empty');
    expect(() => new SqliteMetadataStore({ path: ':memory:', busyTimeoutMs: -1 })).to.throw(
      InvalidRequestError,
      'busyTimeoutMs -1',
    );
    expect(() => new SqliteMetadataStore({ path: ':memory:', synchronous: 'off' as never })).to.throw(
      InvalidRequestError,
      "synchronous 'off'",
    );
    expect(() => new SqliteMetadataStore({ path: join(harness.path, 'no', 'such', 'dir.db') })).to.throw(
      MetadataError,
      'cannot open SQLite metadata file',
    );
  });
});
