/** SQLite-specific behaviour: file format, locking across connections and processes, failures. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { InvalidProducerEpochError, InvalidRequestError, MetadataError, UnsupportedVersionError } from '../../src/protocol/errors.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { SCHEMA_VERSION } from '../../src/metadata/sqlite/schema.js';
import { expectDense, rejection } from './contract/harness.js';
import { sqliteHarness } from './support/storeHarnesses.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

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

  it('upgrades a version 1 file in place, keeping its data', async () => {
    const first = new SqliteMetadataStore({ path: harness.path });
    await first.createTopic('t', 1);
    await first.acquireLease('t', 0, 'agent-a', 10_000);
    await first.close();
    const raw = new Database(harness.path);
    raw.exec('DROP TABLE lease_epoch_floors');
    raw.pragma('user_version = 1');
    raw.close();
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
      expect(check.pragma('user_version', { simple: true })).to.equal(2);
    } finally {
      check.close();
    }
  });

  it('refuses a file written by a newer schema', () => {
    const raw = new Database(harness.path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => new SqliteMetadataStore({ path: harness.path }))
      .to.throw(UnsupportedVersionError, `has schema version ${SCHEMA_VERSION + 1}, newer than ${SCHEMA_VERSION}: upgrade StreamHouse`);
  });

  it('waits busyTimeoutMs for another connection holding the write lock, then fails retriably', async () => {
    const store = new SqliteMetadataStore({ path: harness.path, busyTimeoutMs: 50, synchronous: 'normal' });
    const raw = new Database(harness.path);
    raw.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const error = await rejection(store.createTopic('t', 1), MetadataError, 'METADATA_ERROR');
      expect(Date.now() - started).to.be.at.least(45);
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
      run(process.execPath, ['--import', 'tsx', worker, harness.path, agent, String(partition), '150', '100'], { cwd: join(here, '..', '..') });
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

  it('stops bumping a producer epoch at the int16 limit', async () => {
    const store = new SqliteMetadataStore({ path: harness.path, synchronous: 'normal' });
    const { producerId } = await store.allocateProducerId();
    const raw = new Database(harness.path);
    raw.prepare('UPDATE producer_ids SET epoch = 32766 WHERE producer_id = ?').run(producerId);
    raw.close();
    expect(await store.bumpProducerEpoch(producerId)).to.deep.equal({ producerId, producerEpoch: 32767 });
    const error = await rejection(store.bumpProducerEpoch(producerId), InvalidProducerEpochError, 'INVALID_PRODUCER_EPOCH');
    expect(error.message).to.equal(`producer id ${producerId} is at the last epoch (32767); allocate a new producer id`);
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
    expect(() => new SqliteMetadataStore({ path: ':memory:', busyTimeoutMs: -1 })).to.throw(InvalidRequestError, 'busyTimeoutMs -1');
    expect(() => new SqliteMetadataStore({ path: ':memory:', synchronous: 'off' as never })).to.throw(InvalidRequestError, "synchronous 'off'");
    expect(() => new SqliteMetadataStore({ path: join(harness.path, 'no', 'such', 'dir.db') })).to.throw(MetadataError, 'cannot open SQLite metadata file');
  });
});
