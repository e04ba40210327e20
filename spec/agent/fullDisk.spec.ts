/**
 * A full disk, for real: the agent's objects and its SQLite metadata on a
 * 2 MiB tmpfs (mounted by the test, which runs as root). Produce answers
 * STORAGE_FULL within storageRetryTimeoutMs, metadata writes fail with
 * STORAGE_FULL, and deleting a topic through the API still works (its
 * objects go first, which makes room for SQLite to record the deletion);
 * then the agent takes appends again.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type Agent } from '../../src/agent/agent.js';
import { connectAgent, type AgentConnection } from '../../src/client/agentClient.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { StorageFullError, type StreamHouseError, UnknownTopicOrPartitionError } from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import {
  createTestStores,
  expected,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';
import { within } from '../support/faults.js';

const RETRY_MS = 300;
const SLACK_MS = 5000;

/** Writes zeros into `path` until the file system refuses: whatever room was left is taken. */
async function fillUp(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

describe('agent: a full disk', function () {
  this.timeout(60_000);
  let mountPoint: string;
  let mounted = false;
  let metadata: SqliteMetadataStore;
  let objects: LocalDirectoryObjectStore;
  let agent: Agent | undefined;
  let connection: AgentConnection;

  before(async function () {
    mountPoint = await mkdtemp(join(tmpdir(), 'sh-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], { stdio: 'pipe' });
      mounted = true;
    } catch (error) {
      await rm(mountPoint, { recursive: true, force: true });
      console.warn(`    (skipped: cannot mount a tmpfs here: ${String((error as Error).message).split('\n')[0]})`);
      this.skip();
    }
  });
  after(async () => {
    connection?.close();
    await agent?.stop();
    await metadata?.close();
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('answers STORAGE_FULL, and frees the disk by deleting a topic through the API', async () => {
    metadata = new SqliteMetadataStore({ path: join(mountPoint, 'metadata.db'), synchronous: 'normal' });
    objects = new LocalDirectoryObjectStore({ root: join(mountPoint, 'objects') });
    agent = await startAgent({
      objectStore: objects,
      metadataStore: metadata,
      port: 0,
      maintenanceIntervalMs: 0,
      flushIntervalMs: 1,
      storageRetryTimeoutMs: RETRY_MS,
      storageFailureHoldMs: 0,
    });
    connection = connectAgent(agent.address);
    await connection.client.createTopic({ name: 'big', partitions: 1, config: undefined });

    const value = 'x'.repeat(60_000);
    let full: unknown;
    for (let i = 0; i < 100 && full === undefined; i++) {
      full = await within(
        RETRY_MS + SLACK_MS,
        produce(connection, 'big', 0, [{ key: null, value: Buffer.from(value), timestamp: 1 }]).then(
          () => undefined,
          (e: unknown) => e,
        ),
        'a produce',
      );
    }
    expect(full).to.be.instanceOf(StorageFullError);
    expect((full as StreamHouseError).retriable).to.equal(true);
    const stored = (await readAll(connection, 'big', 0)).length;
    expect(stored).to.be.greaterThan(10);

    // Take what room is left, then what SQLite's log still had: now the metadata cannot be written either.
    await fillUp(join(mountPoint, 'filler'));
    let metadataFull: unknown;
    for (let i = 0; i < 10_000 && metadataFull === undefined; i++) {
      metadataFull = await metadata.registerAgent({ agentId: 'filler', address: '127.0.0.1:1', startedAt: i }).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(metadataFull).to.be.instanceOf(StorageFullError);
    expect((metadataFull as Error).message).to.equal(
      'SQLite metadata operation failed: database or disk is full (SQLITE_FULL: free space on its disk, e.g. delete ' +
        'a topic)',
    );

    await connection.client.deleteTopic({ name: 'big' });
    expect((await connection.client.listTopics({})).names).to.deep.equal([]);
    expect(await objects.list('topics/big/')).to.deep.equal([]);

    await connection.client.createTopic({ name: 'other', partitions: 1, config: undefined });
    expect(await produce(connection, 'other', 0, records(3, 'after'))).to.equal(0);
    expect(await readAll(connection, 'other', 0)).to.deep.equal(expected(0, 3, 'after'));
  });
});

describe('agent: deleting a topic, objects first', () => {
  let stores: TestStores;
  let a: TestAgent;
  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
  });
  afterEach(async () => {
    await a.stop();
    await stores.cleanup();
  });

  it('refuses an unknown topic with UNKNOWN_TOPIC_OR_PARTITION and deletes no object', async () => {
    await stores.objectStore.put('topics/ghost/0/stray.seg', Buffer.from('x'));
    const error = await rejection(a.connection.client.deleteTopic({ name: 'ghost' }));
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    expect((error as Error).message).to.equal("topic 'ghost' does not exist");
    expect((await stores.objectStore.list('topics/ghost/')).map((o) => o.key)).to.deep.equal([
      'topics/ghost/0/stray.seg',
    ]);
  });

  it('deletes every object the topic’s writer wrote, and refuses appends to it afterwards', async () => {
    await a.connection.client.createTopic({ name: 'doomed', partitions: 2, config: undefined });
    expect(await produce(a.connection, 'doomed', 1, records(2, 'a'))).to.equal(0);
    await a.connection.client.deleteTopic({ name: 'doomed' });
    expect(await stores.objectStore.list('topics/doomed/')).to.deep.equal([]);
    expect(await rejection(produce(a.connection, 'doomed', 1, records(1, 'b')))).to.be.instanceOf(
      UnknownTopicOrPartitionError,
    );
  });
});
