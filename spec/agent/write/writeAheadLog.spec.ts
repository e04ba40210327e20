/**
 * The write-ahead log behind `buffered` acks: its entry format and parser,
 * group commit, file roll and deletion, recovery with a torn tail cut off; and
 * on a real agent, buffered-acked records surviving a crash at the offsets
 * they were acknowledged with.
 */
import { expect } from 'chai';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { parseEntries, WriteAheadLog, type WalEntry } from '../../../src/agent/write/writeAheadLog.js';
import { WalLogs } from '../../../src/agent/write/walRecovery.js';
import { AckMode } from '../../../src/protocol/generated/streamhouse.js';
import { StorageError } from '../../../src/protocol/errors.js';
import { fakeBatch } from '../../support/fakeBatch.js';
import {
  createTestStores,
  expected,
  fetchOnce,
  produce,
  readAll,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

/**
 * One entry as the log documents it: `u32 length · u32 crc32c(payload) · payload(u16 topicLength · topic · u32
 * partition · batch)`.
 */
function encodeEntry(topic: string, partition: number, batch: Buffer): Buffer {
  const topicBytes = Buffer.from(topic, 'utf8');
  const payload = Buffer.concat([Buffer.alloc(2), topicBytes, Buffer.alloc(4), batch]);
  payload.writeUInt16BE(topicBytes.length, 0);
  payload.writeUInt32BE(partition, 2 + topicBytes.length);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32c(payload), 4);
  return Buffer.concat([header, payload]);
}

/** What parseEntries should return for a batch written at `baseOffset` with `count` records. */
const entryOf = (topic: string, partition: number, batch: Buffer, baseOffset: number, count: number): WalEntry => ({
  topic,
  partition,
  batch,
  baseOffset,
  nextOffset: baseOffset + count,
});

const files = async (dir: string) => (await readdir(dir)).sort();

/** `promise`, or a failure naming `what` when it has not settled within `ms`. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)),
  );
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('write-ahead log: parseEntries', () => {
  const b0 = fakeBatch({ baseOffset: 0, recordCount: 3 });
  const b1 = fakeBatch({ baseOffset: 3, recordCount: 2, payload: 40 });
  const b2 = fakeBatch({ baseOffset: 7, recordCount: 1 });
  const e0 = encodeEntry('orders', 0, b0);
  const e1 = encodeEntry('événements', 70_000, b1);
  const e2 = encodeEntry('orders', 1, b2);

  it('reads entries back in order with topic, partition, batch and offsets', () => {
    const { entries, validBytes } = parseEntries(Buffer.concat([e0, e1, e2]));
    expect(entries).to.deep.equal([
      entryOf('orders', 0, b0, 0, 3),
      entryOf('événements', 70_000, b1, 3, 2),
      entryOf('orders', 1, b2, 7, 1),
    ]);
    expect(validBytes).to.equal(e0.length + e1.length + e2.length);
  });

  it('reads nothing from nothing', () => {
    expect(parseEntries(Buffer.alloc(0))).to.deep.equal({ entries: [], validBytes: 0 });
  });

  it('stops before a torn last entry, wherever it was cut', () => {
    for (let cut = 1; cut < e1.length; cut++) {
      const { entries, validBytes } = parseEntries(Buffer.concat([e0, e1.subarray(0, cut)]));
      expect(
        entries.map((e) => e.baseOffset),
        `cut at ${cut}`,
      ).to.deep.equal([0]);
      expect(validBytes, `cut at ${cut}`).to.equal(e0.length);
    }
  });

  it('stops at the first entry failing its CRC, even when intact entries follow', () => {
    const damaged = Buffer.from(e1);
    damaged[damaged.length - 3]! ^= 0x01;
    const { entries, validBytes } = parseEntries(Buffer.concat([e0, damaged, e2]));
    expect(entries.map((e) => e.baseOffset)).to.deep.equal([0]);
    expect(validBytes).to.equal(e0.length);
  });

  it('stops at garbage, a too-short length, or a payload that is not exactly one batch', () => {
    const garbage = Buffer.from('this is not a write-ahead log entry at all');
    expect(parseEntries(Buffer.concat([e0, garbage])).validBytes).to.equal(e0.length);
    const short = Buffer.alloc(8 + 5);
    short.writeUInt32BE(5, 0);
    short.writeUInt32BE(crc32c(short.subarray(8)), 4);
    expect(parseEntries(Buffer.concat([e0, short])).validBytes).to.equal(e0.length);
    // A correct CRC over a batch with trailing bytes: the batch frame does not fill the payload.
    const padded = encodeEntry('orders', 0, Buffer.concat([b1, Buffer.alloc(3)]));
    expect(parseEntries(Buffer.concat([e0, padded, e2])).entries.map((e) => e.baseOffset)).to.deep.equal([0]);
    // A topic length running past the payload.
    const lying = Buffer.from(e2);
    lying.writeUInt16BE(60_000, 8);
    lying.writeUInt32BE(crc32c(lying.subarray(8)), 4);
    expect(parseEntries(Buffer.concat([e0, lying])).validBytes).to.equal(e0.length);
  });
});

describe('write-ahead log: WriteAheadLog', () => {
  let dir: string;
  let wal: WriteAheadLog | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-wal-'));
    wal = undefined;
  });
  afterEach(async () => {
    await wal?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('group-commits appends made together and keeps them in append order', async () => {
    wal = await WriteAheadLog.open(dir);
    const batches = Array.from({ length: 6 }, (_, i) =>
      fakeBatch({ baseOffset: i * 2, recordCount: 2, payload: 10 + i }),
    );
    const first = batches.slice(0, 3).map((b, i) => wal!.append('orders', i % 2, b));
    // More arrive while the first group is being written and fsynced.
    const second = await new Promise<Promise<void>[]>((resolve) =>
      setImmediate(() => resolve(batches.slice(3).map((b, i) => wal!.append('orders', (i + 3) % 2, b)))),
    );
    expect(await Promise.all([...first, ...second])).to.deep.equal([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(await files(dir)).to.deep.equal(['wal-000000000000.log']);
    const bytes = await readFile(join(dir, 'wal-000000000000.log'));
    const { entries, validBytes } = parseEntries(bytes);
    expect(validBytes).to.equal(bytes.length);
    expect(entries).to.deep.equal(batches.map((b, i) => entryOf('orders', i % 2, b, i * 2, 2)));
  });

  it('rolls files and deletes each once every partition in it has committed past its entries', async () => {
    wal = await WriteAheadLog.open(dir, undefined, 1); // every write group starts a new file
    await wal.append('t', 0, fakeBatch({ baseOffset: 0, recordCount: 2 }));
    await wal.append('t', 1, fakeBatch({ baseOffset: 0, recordCount: 3 }));
    await wal.append('t', 0, fakeBatch({ baseOffset: 2, recordCount: 2 }));
    expect(await files(dir)).to.deep.equal(['wal-000000000000.log', 'wal-000000000001.log', 'wal-000000000002.log']);

    wal.markCommitted('t', 0, 1); // not past file 0's entry [0, 2) yet
    wal.markCommitted('t', 0, 2);
    await waitFor(async () => (await files(dir)).length === 2, 'file 0 to go');
    expect(await files(dir)).to.deep.equal(['wal-000000000001.log', 'wal-000000000002.log']);
    wal.markCommitted('t', 1, 3);
    await waitFor(async () => (await files(dir)).length === 1, 'file 1 to go');
    // The file being appended to stays, committed or not.
    wal.markCommitted('t', 0, 4);
    await wal.close(); // waits for any deletion markCommitted started
    expect(await files(dir)).to.deep.equal(['wal-000000000002.log']);
  });

  it('reads every intact entry back on open and appends to a new file after them', async () => {
    wal = await WriteAheadLog.open(dir);
    const b0 = fakeBatch({ baseOffset: 0, recordCount: 2 });
    const b1 = fakeBatch({ baseOffset: 0, recordCount: 1 });
    await Promise.all([wal.append('a', 0, b0), wal.append('b', 5, b1)]);
    await wal.close();
    wal = await WriteAheadLog.open(dir);
    expect(wal.recovered).to.deep.equal([entryOf('a', 0, b0, 0, 2), entryOf('b', 5, b1, 0, 1)]);
    await wal.append('a', 0, fakeBatch({ baseOffset: 2, recordCount: 1 }));
    expect(await files(dir)).to.deep.equal(['wal-000000000000.log', 'wal-000000000001.log']);
    // Once both partitions have committed past them, the recovered file goes too.
    wal.markCommitted('a', 0, 2);
    wal.markCommitted('b', 5, 1);
    await waitFor(async () => (await files(dir)).length === 1, 'the recovered file to go');
    expect(await files(dir)).to.deep.equal(['wal-000000000001.log']);
  });

  it('cuts a torn tail on open: the entries before it are recovered, the file is truncated', async () => {
    wal = await WriteAheadLog.open(dir);
    const batches = [0, 2, 4].map((baseOffset) => fakeBatch({ baseOffset, recordCount: 2 }));
    for (const b of batches) await wal.append('t', 0, b);
    await wal.close();
    const path = join(dir, 'wal-000000000000.log');
    const full = (await stat(path)).size;
    const lastEntry = encodeEntry('t', 0, batches[2]!).length;
    await truncate(path, full - 7); // a crash in the middle of the last write
    wal = await WriteAheadLog.open(dir);
    expect(wal.recovered).to.deep.equal([entryOf('t', 0, batches[0]!, 0, 2), entryOf('t', 0, batches[1]!, 2, 2)]);
    expect((await stat(path)).size).to.equal(full - lastEntry);
  });

  it('refuses appends once closed, with STORAGE_ERROR', async () => {
    wal = await WriteAheadLog.open(dir);
    await wal.close();
    const error = await wal.append('t', 0, fakeBatch({ baseOffset: 0 })).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StorageError);
    expect((error as StorageError).message).to.equal('write-ahead log is closed');
  });
});

describe('write-ahead log: WalLogs', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sh-wal-root-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("gives each partition its entries of all agents' logs under the root, each offset once, later ones", async () => {
    const batches = [0, 2, 4].map((baseOffset) => fakeBatch({ baseOffset, recordCount: 2 }));
    await mkdir(join(root, 'agent-a'));
    await mkdir(join(root, 'agent-b'));
    await writeFile(
      join(root, 'agent-a', 'wal-000000000000.log'),
      Buffer.concat([encodeEntry('t', 0, batches[0]!), encodeEntry('t', 1, batches[0]!)]),
    );
    // The same entry in two logs (a takeover replayed it) is one entry.
    await writeFile(
      join(root, 'agent-b', 'wal-000000000003.log'),
      Buffer.concat([encodeEntry('t', 0, batches[0]!), encodeEntry('t', 0, batches[1]!)]),
    );
    await writeFile(join(root, 'agent-b', 'not-a-log.txt'), 'ignored');
    const logs = new WalLogs(root);
    const [p0, p1, p2] = await Promise.all([logs.entriesFor('t', 0), logs.entriesFor('t', 1), logs.entriesFor('t', 2)]);
    expect(p0.map((e) => [e.baseOffset, e.nextOffset])).to.deep.equal([
      [0, 2],
      [2, 4],
    ]);
    expect(p1).to.deep.equal([entryOf('t', 1, batches[0]!, 0, 2)]);
    expect(p2).to.deep.equal([]);
    await appendFile(join(root, 'agent-b', 'wal-000000000003.log'), encodeEntry('t', 0, batches[2]!));
    expect((await logs.entriesFor('t', 0)).map((e) => e.baseOffset)).to.deep.equal([0, 2, 4]);
    expect(await new WalLogs(join(root, 'missing')).entriesFor('t', 0)).to.deep.equal([]);
  });
});

describe('write-ahead log: buffered acks on an agent that crashes', () => {
  let stores: TestStores;
  let walDir: string;
  let agent: TestAgent | undefined;

  /**
   * The agent with a write-ahead log; its writers never flush on their own (no linger, no size trigger within the
   * test).
   */
  const startBuffering = () =>
    startTestAgent(stores, { agentId: 'agent-w', walDir, flushIntervalMs: 600_000, flushBytes: 1 << 30 });
  /** The same agent (same id, same log) after the crash, flushing normally. */
  const restart = () => startTestAgent(stores, { agentId: 'agent-w', walDir });
  /** This agent's own log directory under the shared root. */
  const ownDir = () => join(walDir, 'agent-w');
  const walFile = async () => join(ownDir(), (await files(ownDir()))[0]!);

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    walDir = join(stores.dir, 'wal');
    agent = await startBuffering();
    await agent.connection.client.createTopic({ name: 'orders', partitions: 2, config: undefined });
  });
  afterEach(async () => {
    await agent?.stop();
    await stores.cleanup();
  });

  it('replays every buffered-acked record into segments at the offset it was acknowledged with', async () => {
    const acked: { partition: number; base: number; prefix: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const partition = i < 4 ? 0 : 1;
      acked.push({
        partition,
        base: await produce(agent!.connection, 'orders', partition, records(3, `w${i}`), AckMode.ACK_MODE_BUFFERED),
        prefix: `w${i}`,
      });
    }
    expect(acked.map((x) => x.base)).to.deep.equal([0, 3, 6, 9, 0, 3]);
    // Acknowledged, but in no segment yet: not in the store, not readable.
    expect(await stores.objectStore.list('topics/')).to.deep.equal([]);
    expect((await fetchOnce(agent!.connection, 'orders', 0, 0)).highWatermark).to.equal(0);

    await agent!.kill();
    agent = await restart();
    for (const partition of [0, 1]) {
      expect(await readAll(agent.connection, 'orders', partition)).to.deep.equal(
        acked.filter((x) => x.partition === partition).flatMap((x) => expected(x.base, 3, x.prefix)),
      );
    }
    expect((await agent.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(12);
    // Everything replayed is committed, so the log files are gone.
    await waitFor(async () => (await files(ownDir())).length === 0, 'the replayed log files to be deleted');
    expect(await produce(agent.connection, 'orders', 0, records(1, 'after'))).to.equal(12);
  });

  it('cuts a torn last entry: the ones before it are replayed, the torn one is not, the agent serves on', async () => {
    for (let i = 0; i < 3; i++)
      expect(await produce(agent!.connection, 'orders', 0, records(2, `t${i}`), AckMode.ACK_MODE_BUFFERED)).to.equal(
        i * 2,
      );
    await agent!.kill();
    const path = await walFile();
    await truncate(path, (await stat(path)).size - 5);
    agent = await restart();
    expect(await readAll(agent.connection, 'orders', 0)).to.deep.equal([
      ...expected(0, 2, 't0'),
      ...expected(2, 2, 't1'),
    ]);
    expect(await produce(agent.connection, 'orders', 0, records(2, 'next'))).to.equal(4);
    expect(await readAll(agent.connection, 'orders', 0, 4)).to.deep.equal(expected(4, 2, 'next'));
  });

  it('ignores garbage after the last entry', async () => {
    for (let i = 0; i < 3; i++)
      await produce(agent!.connection, 'orders', 1, records(2, `g${i}`), AckMode.ACK_MODE_BUFFERED);
    await agent!.kill();
    await appendFile(await walFile(), Buffer.from('\u0000\u0000\u0001\u0000half-written entry that never finished'));
    agent = await restart();
    expect(await readAll(agent.connection, 'orders', 1)).to.deep.equal([
      ...expected(0, 2, 'g0'),
      ...expected(2, 2, 'g1'),
      ...expected(4, 2, 'g2'),
    ]);
  });

  it('replays idempotent batches with their producer state, so a retry after the crash is no duplicate', async () => {
    const { producerId, producerEpoch } = await agent!.connection.client.initProducerId({
      producerId: -1,
      producerEpoch: -1,
    });
    const idem = (baseSequence: number) => ({ producerId, producerEpoch, baseSequence });
    expect(
      await produce(agent!.connection, 'orders', 0, records(2, 'i0'), AckMode.ACK_MODE_BUFFERED, idem(0)),
    ).to.equal(0);
    expect(
      await produce(agent!.connection, 'orders', 0, records(2, 'i1'), AckMode.ACK_MODE_BUFFERED, idem(2)),
    ).to.equal(2);
    await agent!.kill();
    agent = await restart();
    expect(await produce(agent.connection, 'orders', 0, records(2, 'i1'), AckMode.ACK_MODE_DURABLE, idem(2))).to.equal(
      2,
    );
    expect(await produce(agent.connection, 'orders', 0, records(1, 'i2'), AckMode.ACK_MODE_DURABLE, idem(4))).to.equal(
      4,
    );
    expect(await readAll(agent.connection, 'orders', 0)).to.deep.equal([
      ...expected(0, 2, 'i0'),
      ...expected(2, 2, 'i1'),
      ...expected(4, 1, 'i2'),
    ]);
  });

  it('replays idempotent and plain batches at exactly their acknowledged offsets', async () => {
    const { producerId, producerEpoch } = await agent!.connection.client.initProducerId({
      producerId: -1,
      producerEpoch: -1,
    });
    const bases = [
      await produce(agent!.connection, 'orders', 0, records(2, 'idem'), AckMode.ACK_MODE_BUFFERED, {
        producerId,
        producerEpoch,
        baseSequence: 0,
      }),
      await produce(agent!.connection, 'orders', 0, records(1, 'plain'), AckMode.ACK_MODE_BUFFERED),
      await produce(agent!.connection, 'orders', 0, records(2, 'idem2'), AckMode.ACK_MODE_BUFFERED, {
        producerId,
        producerEpoch,
        baseSequence: 2,
      }),
    ];
    expect(bases).to.deep.equal([0, 2, 3]);
    await agent!.kill();
    agent = await restart();
    expect(await readAll(agent.connection, 'orders', 0)).to.deep.equal([
      ...expected(0, 2, 'idem'),
      ...expected(2, 1, 'plain'),
      ...expected(3, 2, 'idem2'),
    ]);
  });

  it('replays every partition at once on restart and flushes without waiting for the flush interval', async () => {
    await agent!.connection.client.createTopic({ name: 'wide', partitions: 4, config: undefined });
    const acked: [number, string][][] = [[], [], [], []];
    for (let i = 0; i < 2; i++) {
      for (let partition = 0; partition < 4; partition++) {
        const base = await produce(
          agent!.connection,
          'wide',
          partition,
          records(2, `p${partition}r${i}`),
          AckMode.ACK_MODE_BUFFERED,
        );
        acked[partition]!.push(...expected(base, 2, `p${partition}r${i}`));
      }
    }
    await agent!.kill();
    // A linger of 30 s: replaying partition by partition, each waiting for it, would take minutes.
    const restarting = startTestAgent(stores, {
      agentId: 'agent-w',
      walDir,
      flushIntervalMs: 30_000,
      flushBytes: 1 << 30,
    });
    agent = await within(10_000, restarting, 'the restart to replay four partitions');
    for (let partition = 0; partition < 4; partition++) {
      expect(await readAll(agent.connection, 'wide', partition)).to.deep.equal(acked[partition]);
      expect((await agent.metadataStore.getPartition('wide', partition)).highWatermark).to.equal(4);
    }
  });

  it('lets an agent taking the partition over replay what the crashed one acknowledged as buffered', async () => {
    const acked = [];
    for (let i = 0; i < 3; i++)
      acked.push(await produce(agent!.connection, 'orders', 0, records(2, `f${i}`), AckMode.ACK_MODE_BUFFERED));
    expect(acked).to.deep.equal([0, 2, 4]);
    await agent!.kill();
    // Another agent on the same disk (same log root), with a clock past the crashed agent's lease.
    agent = await startTestAgent(stores, {
      agentId: 'agent-x',
      walDir,
      metadataStore: stores.newMetadataStore({ clock: () => Date.now() + 60_000 }),
    });
    expect(await produce(agent.connection, 'orders', 0, records(1, 'new'))).to.equal(6);
    expect(await readAll(agent.connection, 'orders', 0)).to.deep.equal([
      ...expected(0, 2, 'f0'),
      ...expected(2, 2, 'f1'),
      ...expected(4, 2, 'f2'),
      ...expected(6, 1, 'new'),
    ]);
  });
});
