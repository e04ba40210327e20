/**
 * Compaction and retention on a real agent (directory object store, SQLite):
 * small flush objects merged with every offset still readable, fetches during
 * compaction without gaps or duplicates, retention by bytes and by time moving
 * the log start to a segment boundary. Plus the pure run selection.
 */
import { expect } from 'chai';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { OffsetSpec, AckMode } from '../../../src/protocol/generated/streamhouse.js';
import { OffsetOutOfRangeError } from '../../../src/protocol/errors.js';
import type { SegmentInfo } from '../../../src/metadata/metadataStore.js';
import type { ObjectData, ObjectInfo, ObjectStore } from '../../../src/storage/objectStore.js';
import { smallRuns } from '../../../src/agent/maintenance/maintenance.js';
import { buildSegment } from '../../../src/storage/segmentWriter.js';
import { encodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';
import {
  createTestStores,
  expected,
  fetchOnce,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

/**
 * The real store, with reads held back while `closed`: lets a test park a
 * fetch between its registry lookup and its object reads.
 */
class GatedObjectStore implements ObjectStore {
  closed = false;
  /** Keys read (get or getRange), in order. */
  readonly reads: string[] = [];
  private waiting: (() => void)[] = [];
  constructor(private readonly inner: ObjectStore) {}
  get url() {
    return this.inner.url;
  }
  get parked() {
    return this.waiting.length;
  }
  open(): void {
    this.closed = false;
    for (const wake of this.waiting.splice(0)) wake();
  }
  private async gate(key: string) {
    if (this.closed) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.reads.push(key);
  }
  async get(key: string) {
    await this.gate(key);
    return this.inner.get(key);
  }
  async getRange(key: string, start: number, length: number) {
    await this.gate(key);
    return this.inner.getRange(key, start, length);
  }
  put(key: string, data: ObjectData) {
    return this.inner.put(key, data);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  close() {
    return Promise.resolve();
  }
}

describe('maintenance: smallRuns', () => {
  /** Segments laid end to end from offset 0, one per size, 10 offsets each. */
  const laid = (...sizes: number[]): SegmentInfo[] =>
    sizes.map((sizeBytes, i) => ({
      key: `s${i}`,
      baseOffset: i * 10,
      endOffset: i * 10 + 10,
      sizeBytes,
      minTimestamp: 0,
      maxTimestamp: 0,
      createdAt: 0,
    }));
  const keys = (runs: SegmentInfo[][]) => runs.map((run) => run.map((s) => s.key));

  it('merges adjacent small objects into one run', () => {
    expect(keys(smallRuns(laid(10, 20, 30, 40), 100, 1000))).to.deep.equal([['s0', 's1', 's2', 's3']]);
  });

  it('finds nothing to do in an empty registry or a lone small object', () => {
    expect(smallRuns([], 100, 1000)).to.deep.equal([]);
    expect(smallRuns(laid(10), 100, 1000)).to.deep.equal([]);
    expect(smallRuns(laid(500, 10, 500), 100, 1000)).to.deep.equal([]);
  });

  it('lets large objects (at least smallBytes) break runs and stay as they are', () => {
    expect(keys(smallRuns(laid(10, 10, 100, 10, 10, 10, 500, 10), 100, 1000))).to.deep.equal([
      ['s0', 's1'],
      ['s3', 's4', 's5'],
    ]);
  });

  it('closes a run before it would exceed maxBytes', () => {
    expect(keys(smallRuns(laid(40, 40, 40, 40, 40), 100, 100))).to.deep.equal([
      ['s0', 's1'],
      ['s2', 's3'],
    ]);
    expect(keys(smallRuns(laid(50, 50, 50), 100, 100))).to.deep.equal([['s0', 's1']]);
  });

  it('never joins objects whose offsets do not touch', () => {
    const segments = laid(10, 10, 10, 10);
    segments[2] = { ...segments[2]!, baseOffset: 25 };
    expect(keys(smallRuns(segments, 100, 1000))).to.deep.equal([
      ['s0', 's1'],
      ['s2', 's3'],
    ]);
  });
});

describe('maintenance: compaction and retention on an agent', () => {
  let stores: TestStores;
  let a: TestAgent;
  let reader: TestAgent | undefined;

  const objects = async (topic: string) => (await stores.objectStore.list(`topics/${topic}/0/`)).map((o) => o.key);
  const segmentKey = (topic: string, base: number, end: number, epoch = 1) =>
    `topics/${topic}/0/${String(base).padStart(20, '0')}-${String(end).padStart(20, '0')}-e${epoch}.seg`;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    // Flush at every produce (one object each); maintenance only when the test asks.
    a = await startTestAgent(stores, { agentId: 'agent-a', flushIntervalMs: 0, maintenanceIntervalMs: 0 });
    reader = undefined;
  });
  afterEach(async () => {
    await reader?.stop();
    await a.stop();
    await stores.cleanup();
  });

  it('deletes objects no registry entry names once older than the grace period, and nothing else', async () => {
    await a.stop();
    a = await startTestAgent(stores, {
      agentId: 'agent-a',
      flushIntervalMs: 0,
      maintenanceIntervalMs: 0,
      orphanGraceMs: 60_000,
    });
    await a.connection.client.createTopic({ name: 'orph', partitions: 1, config: undefined });
    for (let i = 0; i < 2; i++) await produce(a.connection, 'orph', 0, records(5, `o${i}`));
    // What fenced writers leave behind: whole objects their commits never registered, one of them written ten minutes
    // ago.
    const stray = 'topics/orph/0/00000000000000000010-00000000000000000015-e0.seg';
    const fresh = 'topics/orph/0/00000000000000000010-00000000000000000016-e0.seg';
    await stores.objectStore.put(stray, Buffer.from('never committed'));
    await stores.objectStore.put(fresh, Buffer.from('never committed either'));
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    await utimes(join(stores.dir, 'objects', stray), tenMinutesAgo, tenMinutesAgo);
    const report = await a.agent.runMaintenance();
    expect(report.orphansDeleted).to.equal(1);
    expect(await stores.objectStore.head(stray)).to.equal(undefined);
    expect((await stores.objectStore.head(fresh))?.size).to.equal(22);
    expect((await readAll(a.connection, 'orph', 0)).map(([o]) => o)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('merges many small flush objects into one; every offset reads the same values', async () => {
    await a.connection.client.createTopic({ name: 'small', partitions: 1, config: undefined });
    for (let i = 0; i < 12; i++) expect(await produce(a.connection, 'small', 0, records(5, `r${i}`))).to.equal(i * 5);
    const before = await readAll(a.connection, 'small', 0);
    expect(before).to.have.length(60);
    expect(await objects('small')).to.have.length(12);

    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 12, mergedInto: 1, deleted: 0, orphansDeleted: 0 });
    expect(await objects('small')).to.deep.equal([segmentKey('small', 0, 60)]);
    const [merged] = await a.metadataStore.listSegments('small', 0);
    expect([merged!.key, merged!.baseOffset, merged!.endOffset]).to.deep.equal([segmentKey('small', 0, 60), 0, 60]);
    expect(merged!.sizeBytes).to.equal((await stores.objectStore.head(segmentKey('small', 0, 60)))!.size);

    expect(await readAll(a.connection, 'small', 0)).to.deep.equal(before);
    for (const from of [1, 29, 30, 59])
      expect(await readAll(a.connection, 'small', 0, from)).to.deep.equal(before.slice(from));
    // An agent that never saw the old objects reads the merged one just the same.
    reader = await startTestAgent(stores, { agentId: 'agent-r' });
    expect(await readAll(reader.connection, 'small', 0)).to.deep.equal(before);

    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 0, mergedInto: 0, deleted: 0, orphansDeleted: 0 });
    // New small objects join the (still small) merged segment next time, under a key of their own.
    expect(await produce(a.connection, 'small', 0, records(5, 'late'))).to.equal(60);
    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 2, mergedInto: 1, deleted: 0, orphansDeleted: 0 });
    expect(await objects('small')).to.deep.equal([segmentKey('small', 0, 65)]);
    expect(await readAll(a.connection, 'small', 0)).to.deep.equal([...before, ...expected(60, 5, 'late')]);
  });

  it('leaves objects of at least compactionMinObjectBytes alone and merges the runs between them', async () => {
    await a.stop();
    a = await startTestAgent(stores, { agentId: 'agent-a', flushIntervalMs: 0, compactionMinObjectBytes: 1000 });
    await a.connection.client.createTopic({ name: 'mixed', partitions: 1, config: undefined });
    const big = (prefix: string) =>
      records(40, prefix).map((r) => ({ ...r, value: Buffer.from(`${prefix}-${'x'.repeat(40)}`) }));
    const plan: ('s' | 'B')[] = ['s', 's', 's', 'B', 's', 's', 'B', 's'];
    for (const [i, kind] of plan.entries())
      await produce(a.connection, 'mixed', 0, kind === 's' ? records(1, `s${i}`) : big(`B${i}`));
    const sizes = (await a.metadataStore.listSegments('mixed', 0)).map((s) => s.sizeBytes >= 1000);
    expect(sizes).to.deep.equal(plan.map((k) => k === 'B'));
    const before = await readAll(a.connection, 'mixed', 0);

    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 5, mergedInto: 2, deleted: 0, orphansDeleted: 0 });
    expect((await a.metadataStore.listSegments('mixed', 0)).map((s) => [s.baseOffset, s.endOffset])).to.deep.equal([
      [0, 3],
      [3, 43],
      [43, 45],
      [45, 85],
      [85, 86],
    ]);
    expect(await objects('mixed')).to.have.length(5);
    expect(await readAll(a.connection, 'mixed', 0)).to.deep.equal(before);
  });

  it('never shows a fetch a gap or a duplicate while compaction swaps objects', async () => {
    await a.connection.client.createTopic({ name: 'busy', partitions: 1, config: undefined });
    reader = await startTestAgent(stores, { agentId: 'agent-r' });
    let want: [number, string][] = [];
    let readsDuringCompaction = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 15; i++) {
        const prefix = `x${round}-${i}`;
        want = [...want, ...expected(await produce(a.connection, 'busy', 0, records(2, prefix)), 2, prefix)];
      }
      let done = false;
      const compaction = a.agent.runMaintenance().finally(() => (done = true));
      const readLoop = async (via: TestAgent, from: number) => {
        do {
          expect(await readAll(via.connection, 'busy', 0, from)).to.deep.equal(want.slice(from));
          if (!done) readsDuringCompaction++;
        } while (!done);
      };
      await Promise.all([
        compaction,
        readLoop(a, 0),
        readLoop(reader, 0),
        readLoop(reader, 17),
        readLoop(a, want.length - 1),
      ]);
      expect((await compaction).merged).to.equal(round === 0 ? 15 : 16);
      expect(await objects('busy')).to.deep.equal([segmentKey('busy', 0, want.length)]);
    }
    expect(readsDuringCompaction).to.be.greaterThan(0);
  });

  it('retries a fetch that looked up objects compaction has just deleted, and reads the merged one', async () => {
    await a.connection.client.createTopic({ name: 'swap', partitions: 1, config: undefined });
    for (let i = 0; i < 6; i++) await produce(a.connection, 'swap', 0, records(2, `w${i}`));
    const want = await readAll(a.connection, 'swap', 0);
    const gated = new GatedObjectStore(stores.objectStore);
    reader = await startTestAgent(stores, { agentId: 'agent-r', objectStore: gated });
    gated.closed = true;
    const fetching = readAll(reader.connection, 'swap', 0);
    while (gated.parked === 0) await new Promise((r) => setTimeout(r, 5));
    // The fetch holds the old keys; compaction swaps them out and deletes them.
    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 6, mergedInto: 1, deleted: 0, orphansDeleted: 0 });
    gated.open();
    expect(await fetching).to.deep.equal(want);
    expect(gated.reads[0]).to.equal(segmentKey('swap', 0, 2));
    expect(gated.reads[gated.reads.length - 1]).to.equal(segmentKey('swap', 0, 12));
  });

  it('retention by bytes drops the oldest segments and moves the log start to a segment boundary', async () => {
    const timestamp = Date.now();
    const one = buildSegment([encodeRecordBatch(records(4, 'b0', timestamp))]).sizeBytes;
    // Room for two and a half segments: the oldest three of five must go.
    await a.connection.client.createTopic({
      name: 'sized',
      partitions: 1,
      config: { retentionBytes: 2 * one + Math.floor(one / 2), retentionMs: 0, segmentBytes: 0, maxMessageBytes: 0 },
    });
    for (let i = 0; i < 5; i++)
      expect(await produce(a.connection, 'sized', 0, records(4, `b${i}`, timestamp))).to.equal(i * 4);
    expect((await a.metadataStore.listSegments('sized', 0)).map((s) => s.sizeBytes)).to.deep.equal([
      one,
      one,
      one,
      one,
      one,
    ]);

    // Retention first, then the two survivors are merged.
    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 2, mergedInto: 1, deleted: 3, orphansDeleted: 0 });
    expect(await objects('sized')).to.deep.equal([segmentKey('sized', 12, 20)]);
    expect((await a.metadataStore.getPartition('sized', 0)).logStartOffset).to.equal(12);

    reader = await startTestAgent(stores, { agentId: 'agent-r' });
    for (const via of [a, reader]) {
      for (const below of [0, 11]) {
        const error = await rejection(fetchOnce(via.connection, 'sized', 0, below));
        expect(error).to.be.instanceOf(OffsetOutOfRangeError);
        expect((error as OffsetOutOfRangeError).message).to.equal(
          `offset ${below} is outside the log of sized/0 [12, 20]`,
        );
      }
      const { results } = await via.connection.client.listOffsets({
        partitions: [
          { topic: 'sized', partition: 0, spec: OffsetSpec.OFFSET_SPEC_EARLIEST, timestampMs: 0 },
          { topic: 'sized', partition: 0, spec: OffsetSpec.OFFSET_SPEC_LATEST, timestampMs: 0 },
        ],
      });
      expect(results.map((r) => r.offset)).to.deep.equal([12, 20]);
      expect(await readAll(via.connection, 'sized', 0, 12)).to.deep.equal([
        ...expected(12, 4, 'b3'),
        ...expected(16, 4, 'b4'),
      ]);
    }
    // Produce answers carry the new log start too.
    const { results } = await a.connection.client.produce({
      acks: AckMode.ACK_MODE_DURABLE,
      producerId: -1,
      producerEpoch: -1,
      timeoutMs: 0,
      partitions: [{ topic: 'sized', partition: 0, batch: encodeRecordBatch(records(1, 'after', timestamp)) }],
    });
    expect([results[0]!.baseOffset, results[0]!.logStartOffset]).to.deep.equal([20, 12]);
  });

  it('retention by time drops segments whose newest record is older than retentionMs', async () => {
    const now = Date.now();
    const hour = 3_600_000;
    await a.connection.client.createTopic({
      name: 'aged',
      partitions: 1,
      config: { retentionMs: hour, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 0 },
    });
    for (let i = 0; i < 3; i++) await produce(a.connection, 'aged', 0, records(3, `old${i}`, now - 2 * hour));
    for (let i = 0; i < 2; i++) await produce(a.connection, 'aged', 0, records(3, `new${i}`, now));

    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 2, mergedInto: 1, deleted: 3, orphansDeleted: 0 });
    expect(await objects('aged')).to.deep.equal([segmentKey('aged', 9, 15)]);
    const error = await rejection(fetchOnce(a.connection, 'aged', 0, 8));
    expect((error as OffsetOutOfRangeError).message).to.equal('offset 8 is outside the log of aged/0 [9, 15]');
    const { results } = await a.connection.client.listOffsets({
      partitions: [{ topic: 'aged', partition: 0, spec: OffsetSpec.OFFSET_SPEC_EARLIEST, timestampMs: 0 }],
    });
    expect(results[0]!.offset).to.equal(9);
    expect(await readAll(a.connection, 'aged', 0, 9)).to.deep.equal([
      ...expected(9, 3, 'new0'),
      ...expected(12, 3, 'new1'),
    ]);
    // Nothing else is old enough.
    expect(await a.agent.runMaintenance()).to.deep.equal({ merged: 0, mergedInto: 0, deleted: 0, orphansDeleted: 0 });
  });

  it('runs only on the partitions the agent leads', async () => {
    await a.connection.client.createTopic({ name: 'led', partitions: 1, config: undefined });
    for (let i = 0; i < 3; i++) await produce(a.connection, 'led', 0, records(1, `l${i}`));
    reader = await startTestAgent(stores, { agentId: 'agent-r' });
    expect(await reader.agent.runMaintenance()).to.deep.equal({
      merged: 0,
      mergedInto: 0,
      deleted: 0,
      orphansDeleted: 0,
    });
    expect(await objects('led')).to.have.length(3);
  });

  it('runs by itself every maintenanceIntervalMs', async () => {
    await a.stop();
    a = await startTestAgent(stores, { agentId: 'agent-a', flushIntervalMs: 0, maintenanceIntervalMs: 50 });
    await a.connection.client.createTopic({ name: 'auto', partitions: 1, config: undefined });
    for (let i = 0; i < 4; i++) await produce(a.connection, 'auto', 0, records(2, `a${i}`));
    const deadline = Date.now() + 3000;
    while ((await objects('auto')).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await objects('auto')).to.deep.equal([segmentKey('auto', 0, 8)]);
    expect((await readAll(a.connection, 'auto', 0)).map(([o]) => o)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
