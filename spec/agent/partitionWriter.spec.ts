/**
 * PartitionWriter on its own, over a real SQLite file and a real directory
 * store; object writes can be held back to look inside a flush.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionWriter, type AckKind, type AppendResult, type LostAppends } from '../../src/agent/partitionWriter.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/sqliteMetadataStore.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import type { ObjectData, ObjectInfo, ObjectStore } from '../../src/storage/objectStore.js';
import { encodeRecordBatch, validateBatch, type EncodeOptions } from '../../src/protocol/recordBatch.js';
import { NotLeaderError, ShuttingDownError, StorageError } from '../../src/protocol/errors.js';
import type { Lease } from '../../src/metadata/metadataStore.js';
import { records } from '../support/agentHarness.js';

/** The real store, with puts held back while `closed`. */
class GatedPuts implements ObjectStore {
  closed = false;
  /** Puts that fail (retriable StorageError) before reaching the real store. */
  failures = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly inner: ObjectStore) {}
  get url() { return this.inner.url; }
  get parked() { return this.waiting.length; }
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
  get(key: string) { return this.inner.get(key); }
  getRange(key: string, start: number, length: number) { return this.inner.getRange(key, start, length); }
  head(key: string): Promise<ObjectInfo | undefined> { return this.inner.head(key); }
  list(prefix: string) { return this.inner.list(prefix); }
  delete(key: string) { return this.inner.delete(key); }
  close() { return this.inner.close(); }
}

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));
const key = (base: number, end: number, epoch = 1) => `topics/t/0/${String(base).padStart(20, '0')}-${String(end).padStart(20, '0')}-e${epoch}.seg`;

describe('partition writer', function () {
  let dir: string;
  let metadata: SqliteMetadataStore;
  let objects: GatedPuts;
  let writer: PartitionWriter;
  let commits: number[];
  let fenced: number;
  /** The lease as the LeaseManager would hold it now (renewals replace it). */
  let current: Lease | undefined;

  let failed: string[];
  let lost: LostAppends;
  const open = async (options: { flushIntervalMs?: number; maxPendingBytes?: number; leaseTtlMs?: number; storageRetryTimeoutMs?: number } = {}) => {
    const lease = await metadata.acquireLease('t', 0, 'agent-a', options.leaseTtlMs ?? 10_000);
    current = lease;
    writer = await PartitionWriter.open({
      topic: 't',
      partition: 0,
      lease,
      currentLease: () => current,
      objectStore: objects,
      metadataStore: metadata,
      flushIntervalMs: options.flushIntervalMs ?? 0,
      flushBytes: 1 << 20,
      maxPendingBytes: options.maxPendingBytes ?? 1 << 20,
      onCommit: (_t, _p, hwm) => commits.push(hwm),
      onFenced: () => fenced++,
      onFailed: (_t, _p, error) => failed.push(error.code),
      storageRetryTimeoutMs: options.storageRetryTimeoutMs,
      lostAppends: lost,
    });
  };
  const append = (count: number, prefix: string, ack: AckKind = 'durable', encode: EncodeOptions = {}): Promise<AppendResult> => {
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
    promise.then((value) => Object.assign(state, { done: true, value }), (error: unknown) => Object.assign(state, { done: true, error }));
    return state;
  };
  const objectKeys = async () => (await objects.list('topics/t/0/')).map((o) => o.key);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-writer-'));
    metadata = new SqliteMetadataStore({ path: join(dir, 'metadata.db'), synchronous: 'normal' });
    objects = new GatedPuts(new LocalDirectoryObjectStore({ root: join(dir, 'objects') }));
    await metadata.createTopic('t', 1);
    commits = [];
    fenced = 0;
    failed = [];
    lost = { batches: 0, records: 0 };
  });
  afterEach(async () => {
    objects.open();
    await writer.close().catch(() => undefined);
    await metadata.close();
    await objects.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers durable appends after the commit, with offsets, count and log start', async () => {
    await open();
    const first = await append(3, 'a');
    expect({ ...first, appendTime: 0 }).to.deep.equal({ baseOffset: 0, recordCount: 3, appendTime: 0, logStartOffset: 0 });
    expect((await append(2, 'b')).baseOffset).to.equal(3);
    expect(commits).to.deep.equal([3, 5]);
    expect(writer.committedHighWatermark).to.equal(5);
    expect((await metadata.getPartition('t', 0)).highWatermark).to.equal(5);
    expect(await objectKeys()).to.deep.equal([key(0, 3), key(3, 5)]);
    // `none` answers at once, without an offset.
    expect((await append(1, 'c', 'none')).baseOffset).to.equal(-1);
  });

  it('rides out store failures while its renewed lease lasts, long after the first one would have expired', async () => {
    await open({ leaseTtlMs: 200 });
    current = await metadata.renewLease(current!, 60_000);
    await tick(300);
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
    await tick();
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
    const second = settled(append(1, 'b')); // pending was empty: taken
    const third = settled(append(1, 'c')); // pending is full: waits
    await tick();
    expect([first.done, second.done, third.done]).to.deep.equal([false, false, false]);
    objects.open();
    while (!third.done) await tick(5);
    expect([first.value!.baseOffset, second.value!.baseOffset, third.value!.baseOffset]).to.deep.equal([0, 1, 2]);
  });

  it('fails every uncommitted append with NOT_LEADER and stops once its lease is taken', async () => {
    await open({ leaseTtlMs: 100 });
    expect((await append(1, 'a')).baseOffset).to.equal(0);
    await tick(150);
    await metadata.acquireLease('t', 0, 'agent-b', 10_000); // epoch 2
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

  it('gives up on a store failure after storageRetryTimeoutMs with the last error, counting lost none appends, its lease still held', async () => {
    await open({ storageRetryTimeoutMs: 100 });
    objects.failures = 1_000_000;
    const unacked = await append(2, 'n', 'none');
    const durable = settled(append(1, 'd'));
    while (!durable.done) await tick(5);
    expect(unacked.baseOffset).to.equal(-1);
    expect(durable.error).to.be.instanceOf(StorageError);
    expect((durable.error as Error).message).to.equal(`put of ${key(0, 2)} failed (injected)`);
    expect([failed, fenced, writer.isStopped, writer.failure?.error]).to.deep.equal([['STORAGE_ERROR'], 0, true, durable.error]);
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
});
