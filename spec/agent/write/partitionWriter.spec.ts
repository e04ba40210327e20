/**
 * PartitionWriter on its own, over a real SQLite file and a real directory
 * store; object writes can be held back to look inside a flush.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PartitionWriter,
  type AckKind,
  type AppendResult,
  type LostAppends,
} from '../../../src/agent/write/partitionWriter.js';
import { SqliteMetadataStore } from '../../../src/metadata/sqlite/sqliteMetadataStore.js';
import { LocalDirectoryObjectStore } from '../../../src/storage/localDirectoryObjectStore.js';
import type { ObjectData, ObjectInfo, ObjectStore } from '../../../src/storage/objectStore.js';
import { encodeRecordBatch, validateBatch, type EncodeOptions } from '../../../src/protocol/codec/recordBatch.js';
import { NotLeaderError, ShuttingDownError, StorageError } from '../../../src/protocol/errors.js';
import type { Lease } from '../../../src/metadata/metadataStore.js';
import { WriteAheadLog } from '../../../src/agent/write/writeAheadLog.js';
import { records } from '../../support/agentHarness.js';

/** The real store, with puts held back while `closed`. */
class GatedPuts implements ObjectStore {
  closed = false;
  /** Puts that fail (retriable StorageError) before reaching the real store. */
  failures = 0;
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
  async put(key: string, data: ObjectData) {
    if (this.closed) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.failures > 0) {
      this.failures--;
      throw new StorageError(`put of ${key} failed (injected)`);
    }
    return this.inner.put(key, data);
  }
  get(key: string) {
    return this.inner.get(key);
  }
  getRange(key: string, start: number, length: number) {
    return this.inner.getRange(key, start, length);
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
    return this.inner.close();
  }
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** One turn of the event loop: every callback already queued, and the promise reactions they start, have run. */
const turn = () => new Promise((r) => setImmediate(r));
const key = (base: number, end: number, epoch = 1) =>
  `topics/t/0/${String(base).padStart(20, '0')}-${String(end).padStart(20, '0')}-e${epoch}.seg`;

describe('partition writer', () => {
  let dir: string;
  let metadata: SqliteMetadataStore;
  let objects: GatedPuts;
  let writer: PartitionWriter;
  let commits: number[];
  let fenced: number;
  /** The lease as the LeaseManager would hold it (renewals replace it); held while unexpired by the writer's clock. */
  let current: Lease | undefined;
  /** Lease time of the store and the writer: it stands still unless a test moves it (a pause moves it past a lease). */
  let now: number;
  const clock = () => now;
  let wal: WriteAheadLog | undefined;

  let failed: string[];
  let lost: LostAppends;
  const open = async (
    options: {
      flushIntervalMs?: number;
      maxPendingBytes?: number;
      leaseTtlMs?: number;
      wal?: WriteAheadLog;
      storageRetryTimeoutMs?: number;
    } = {},
  ) => {
    const lease = await metadata.acquireLease('t', 0, 'agent-a', options.leaseTtlMs ?? 10_000);
    current = lease;
    writer = await PartitionWriter.open({
      topic: 't',
      partition: 0,
      lease,
      currentLease: () => (current !== undefined && current.expiresAt > clock() ? current : undefined),
      objectStore: objects,
      metadataStore: metadata,
      flushIntervalMs: options.flushIntervalMs ?? 0,
      flushBytes: 1 << 20,
      maxPendingBytes: options.maxPendingBytes ?? 1 << 20,
      onCommit: (_t, _p, hwm) => commits.push(hwm),
      onFenced: () => fenced++,
      wal: options.wal,
      clock,
      onFailed: (_t, _p, error) => failed.push(error.code),
      storageRetryTimeoutMs: options.storageRetryTimeoutMs,
      lostAppends: lost,
    });
  };
  const append = (
    count: number,
    prefix: string,
    ack: AckKind = 'durable',
    encode: EncodeOptions = {},
  ): Promise<AppendResult> => {
    const batch = encodeRecordBatch(records(count, prefix), encode);
    return writer.append({
      batch,
      frame: validateBatch(batch, 0),
      producerId: encode.producerId ?? -1,
      producerEpoch: encode.producerEpoch ?? -1,
      baseSequence: encode.baseSequence ?? -1,
      ack,
    });
  };
  const settled = <T>(promise: Promise<T>) => {
    const state: { done: boolean; value?: T; error?: unknown } = { done: false };
    promise.then(
      (value) => Object.assign(state, { done: true, value }),
      (error: unknown) => Object.assign(state, { done: true, error }),
    );
    return state;
  };
  const objectKeys = async () => (await objects.list('topics/t/0/')).map((o) => o.key);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-writer-'));
    now = Date.now();
    metadata = new SqliteMetadataStore({ path: join(dir, 'metadata.db'), synchronous: 'normal', clock });
    objects = new GatedPuts(new LocalDirectoryObjectStore({ root: join(dir, 'objects') }));
    await metadata.createTopic('t', 1);
    commits = [];
    fenced = 0;
    wal = undefined;
    failed = [];
    lost = { batches: 0, records: 0 };
  });
  afterEach(async () => {
    objects.open();
    await writer.close().catch(() => undefined);
    await wal?.close();
    await metadata.close();
    await objects.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers durable appends after the commit, with offsets, count and log start', async () => {
    await open();
    const first = await append(3, 'a');
    expect({ ...first, appendTime: 0 }).to.deep.equal({
      baseOffset: 0,
      recordCount: 3,
      appendTime: 0,
      logStartOffset: 0,
    });
    expect((await append(2, 'b')).baseOffset).to.equal(3);
    expect(commits).to.deep.equal([3, 5]);
    expect(writer.committedHighWatermark).to.equal(5);
    expect((await metadata.getPartition('t', 0)).highWatermark).to.equal(5);
    expect(await objectKeys()).to.deep.equal([key(0, 3), key(3, 5)]);
    // `none` answers at once, without an offset.
    expect((await append(1, 'c', 'none')).baseOffset).to.equal(-1);
  });

  it('rides out store failures while its renewed lease lasts, long past the first lease expiry', async () => {
    await open({ leaseTtlMs: 200 });
    current = await metadata.renewLease(current!, 60_000);
    now += 300;
    objects.failures = 2;
    expect((await append(2, 'late')).baseOffset).to.equal(0);
    expect([fenced, writer.isStopped, objects.failures]).to.deep.equal([0, false, 0]);
  });

  it('puts batches that arrive during a flush into the next object', async () => {
    await open();
    objects.closed = true;
    const first = append(1, 'a');
    while (objects.parked === 0) await tick(5);
    const later = [append(2, 'b'), append(3, 'c'), append(1, 'd')];
    objects.open();
    expect((await Promise.all([first, ...later])).map((r) => r.baseOffset)).to.deep.equal([0, 1, 3, 6]);
    expect(await objectKeys()).to.deep.equal([key(0, 1), key(1, 7)]);
    expect(commits).to.deep.equal([1, 7]);
  });

  it('answers a retried idempotent batch only once its original is durable', async () => {
    await open();
    const idem = { producerId: 5, producerEpoch: 0, baseSequence: 0 };
    objects.closed = true;
    const original = settled(append(2, 'a', 'durable', idem));
    while (objects.parked === 0) await tick(5);
    // The original's object is still being written: the retry must not be acknowledged before it.
    const retry = settled(append(2, 'a', 'durable', idem));
    // Its path has no timer and no I/O of its own (SQLite calls are synchronous): after one turn it is answered or
    // waiting.
    await turn();
    expect([original.done, retry.done]).to.deep.equal([false, false]);
    objects.open();
    while (!retry.done || !original.done) await tick(5);
    expect([original.value!.baseOffset, retry.value!.baseOffset]).to.deep.equal([0, 0]);
    expect(await objectKeys()).to.deep.equal([key(0, 2)]);
  });

  it('holds appends back while maxPendingBytes wait for a flush', async () => {
    await open({ maxPendingBytes: 1 });
    objects.closed = true;
    const first = settled(append(1, 'a'));
    while (objects.parked === 0) await tick(5);
    // Acks `none`, which answer once an append is taken: what waits is held back, not waiting for a flush.
    const second = settled(append(1, 'b', 'none')); // pending was empty: taken
    const third = settled(append(1, 'c', 'none')); // pending is full: waits
    await turn();
    expect([first.done, second.done, third.done]).to.deep.equal([false, true, false]);
    objects.open();
    while (!third.done) await tick(5);
    expect([first.value!.baseOffset, second.value!.baseOffset, third.value!.baseOffset]).to.deep.equal([0, -1, -1]);
    while (writer.committedHighWatermark < 3) await tick(5);
  });

  it('fails every uncommitted append with NOT_LEADER and stops once its lease is taken', async () => {
    await open({ leaseTtlMs: 100 });
    expect((await append(1, 'a')).baseOffset).to.equal(0);
    now += 150;
    await metadata.acquireLease('t', 0, 'agent-b', 10_000); // epoch 2
    // This agent's clock still says it leads (as with clocks apart): the store's fence is what stops it.
    current = { ...current!, expiresAt: Date.now() + 60_000 };
    objects.closed = true;
    const doomed = [settled(append(1, 'b')), settled(append(2, 'c'))];
    while (objects.parked === 0) await tick(5);
    objects.open();
    while (!doomed.every((d) => d.done)) await tick(5);
    for (const d of doomed) expect(d.error).to.be.instanceOf(NotLeaderError);
    expect((doomed[0]!.error as NotLeaderError).message).to.equal('partition t/0 lost its lease while flushing');
    expect(fenced).to.equal(1);
    expect(writer.isStopped).to.equal(true);
    expect(await append(1, 'd').catch((e: unknown) => e)).to.be.instanceOf(NotLeaderError);
    expect((await metadata.getPartition('t', 0)).highWatermark).to.equal(1);
  });

  it('flushes what is pending on close and refuses appends afterwards', async () => {
    await open({ flushIntervalMs: 60_000 });
    const pending = append(2, 'a');
    await writer.close();
    expect((await pending).baseOffset).to.equal(0);
    expect(await objectKeys()).to.deep.equal([key(0, 2)]);
    const error = await append(1, 'b').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ShuttingDownError);
  });

  it('drops what is pending when abandoned (a crash): nothing is written, waiting appends fail', async () => {
    await open({ flushIntervalMs: 60_000 });
    const pending = settled(append(2, 'a'));
    writer.abandon();
    while (!pending.done) await tick(5);
    expect(pending.error).to.be.instanceOf(ShuttingDownError);
    expect(await objectKeys()).to.deep.equal([]);
    expect(writer.isStopped).to.equal(true);
  });

  it('gives up after storageRetryTimeoutMs with the last error, counts lost none appends, keeps lease', async () => {
    await open({ storageRetryTimeoutMs: 100 });
    objects.failures = 1_000_000;
    const unacked = await append(2, 'n', 'none');
    const durable = settled(append(1, 'd'));
    while (!durable.done) await tick(5);
    expect(unacked.baseOffset).to.equal(-1);
    expect(durable.error).to.be.instanceOf(StorageError);
    expect((durable.error as Error).message).to.equal(`put of ${key(0, 2)} failed (injected)`);
    expect([failed, fenced, writer.isStopped, writer.failure?.error]).to.deep.equal([
      ['STORAGE_ERROR'],
      0,
      true,
      durable.error,
    ]);
    expect(lost).to.deep.equal({ batches: 1, records: 2 });
    expect(await append(1, 'late', 'none').catch((e: unknown) => e)).to.equal(durable.error);
    expect((await metadata.getPartition('t', 0)).highWatermark).to.equal(0);
  });

  it('fails every unanswered append with the reason when aborted, those of a flush under way included', async () => {
    await open();
    objects.closed = true;
    const flushing = settled(append(1, 'a'));
    while (objects.parked === 0) await tick(5);
    const waiting = settled(append(2, 'b'));
    await append(3, 'c', 'none');
    const reason = new ShuttingDownError('out of time');
    writer.abort(reason);
    while (!flushing.done || !waiting.done) await tick(5);
    expect([flushing.error, waiting.error]).to.deep.equal([reason, reason]);
    expect(lost).to.deep.equal({ batches: 1, records: 3 });
    expect(await append(1, 'd').catch((e: unknown) => e)).to.equal(reason);
    // The flush under way still lands (its append was answered with the reason all the same).
    objects.open();
    while (commits.length === 0) await tick(5);
    expect(commits).to.deep.equal([1]);
  });

  describe("self-fencing: a lease that may have expired by this agent's clock", () => {
    const walEntries = async () => {
      const reopened = await WriteAheadLog.open(join(dir, 'wal'));
      await reopened.close();
      return reopened.recovered.length;
    };

    for (const ack of ['durable', 'buffered', 'none'] as const) {
      it(`answers no ${ack} append after it: NOT_LEADER, nothing written or logged, and the writer stops`, async () => {
        wal = await WriteAheadLog.open(join(dir, 'wal'));
        await open({ wal });
        expect((await append(2, 'before')).baseOffset).to.equal(0);
        now += 20_000; // slept past the 10 s lease
        const error = await append(1, 'after', ack).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(NotLeaderError);
        expect((error as NotLeaderError).retriable).to.equal(true);
        expect((error as NotLeaderError).message).to.equal(
          'lease epoch 1 of t/0 is no longer held or may have expired; lease it again',
        );
        expect([fenced, writer.isStopped]).to.deep.equal([1, true]);
        expect(await append(1, 'later', ack).catch((e: unknown) => e)).to.be.instanceOf(NotLeaderError);
        expect((await metadata.getPartition('t', 0)).highWatermark).to.equal(2);
        expect(await objectKeys()).to.deep.equal([key(0, 2)]);
        await wal.close();
        expect(await walEntries()).to.equal(0);
      });
    }

    it('fails a durable append still pending when the lease expires, without writing it', async () => {
      await open({ flushIntervalMs: 60_000 });
      const pending = settled(append(2, 'a'));
      now += 20_000;
      await writer.close(); // the flush finds the lease gone
      expect(pending.error).to.be.instanceOf(NotLeaderError);
      expect(await objectKeys()).to.deep.equal([]);
      expect([fenced, writer.isStopped, (await metadata.getPartition('t', 0)).highWatermark]).to.deep.equal([
        1,
        true,
        0,
      ]);
    });

    it('leaves unanswered a buffered append whose log write outlasted the lease; the entry stays', async () => {
      wal = await WriteAheadLog.open(join(dir, 'wal'));
      const logAppend = wal.append.bind(wal);
      // A pause during the log's fsync.
      wal.append = async (topic, partition, batch) => {
        await logAppend(topic, partition, batch);
        now += 20_000;
      };
      await open({ wal, flushIntervalMs: 60_000 });
      const error = await append(3, 'slow', 'buffered').catch((e: unknown) => e);
      expect(error).to.be.instanceOf(NotLeaderError);
      expect(writer.isStopped).to.equal(true);
      await wal.close();
      expect(await walEntries()).to.equal(1);
    });
  });
});
