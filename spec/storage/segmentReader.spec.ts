/** SegmentReader on a real directory store, with a counting wrapper to see every request it makes. */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidConfigError,
  InvalidRequestError,
  ObjectNotFoundError,
  OffsetOutOfRangeError,
} from '../../src/protocol/errors.js';
import { LocalDirectoryObjectStore } from '../../src/storage/localDirectoryObjectStore.js';
import { SegmentReader } from '../../src/storage/segmentReader.js';
import { buildSegment, type BuiltSegment } from '../../src/storage/segmentWriter.js';
import { fakeBatch } from '../support/fakeBatch.js';
import { CountingObjectStore } from './countingObjectStore.js';
import { rejection } from './objectStore.contract.js';

/** A segment of `count` batches with varied sizes and record counts, deterministic. */
function variedBatches(baseOffset: number, count: number): Buffer[] {
  const batches: Buffer[] = [];
  let state = 12345;
  const next = (limit: number): number => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state % limit;
  };
  let offset = baseOffset;
  for (let i = 0; i < count; i++) {
    const recordCount = 1 + next(5);
    // Mostly small batches, now and then one bigger than the index interval.
    const payload = next(10) === 0 ? 4000 + next(6000) : next(1500);
    batches.push(fakeBatch({ baseOffset: offset, recordCount, payload }));
    offset += recordCount;
  }
  return batches;
}

/** What readBatches must return, computed by brute force over the batch list. */
function expected(
  batches: Buffer[],
  fromOffset: number,
  maxBytes: number,
): { bytes: Buffer; firstOffset: number; nextOffset: number; batchCount: number } {
  const start = batches.findIndex((b) => {
    const base = Number(b.readBigInt64BE(0));
    return fromOffset >= base && fromOffset <= base + b.readInt32BE(23);
  });
  const taken = [batches[start]!];
  let total = taken[0]!.length;
  for (let i = start + 1; i < batches.length && total + batches[i]!.length <= maxBytes; i++) {
    taken.push(batches[i]!);
    total += batches[i]!.length;
  }
  const last = taken[taken.length - 1]!;
  return {
    bytes: Buffer.concat(taken),
    firstOffset: Number(taken[0]!.readBigInt64BE(0)),
    nextOffset: Number(last.readBigInt64BE(0)) + last.readInt32BE(23) + 1,
    batchCount: taken.length,
  };
}

describe('storage/SegmentReader', function () {
  this.timeout(30_000);
  let dir: string;
  let store: CountingObjectStore;
  const key = 'topics/t/0/00000000000000001000.seg';
  let batches: Buffer[];
  let segment: BuiltSegment;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sh-segreader-'));
    store = new CountingObjectStore(new LocalDirectoryObjectStore({ root: dir }));
    batches = variedBatches(1000, 120);
    segment = buildSegment(batches);
    await store.put(key, segment.bytes);
    store.reset();
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the footer with one ranged read of the tail when the size is known, head + one without', async () => {
    const reader = new SegmentReader();
    const footer = await reader.readFooter(store, key, { sizeBytes: segment.sizeBytes });
    expect(footer).to.include({
      baseOffset: 1000,
      endOffset: segment.endOffset,
      batchCount: 120,
      sizeBytes: segment.sizeBytes,
    });
    expect(footer.minTimestamp).to.equal(segment.minTimestamp);
    expect(footer.maxTimestamp).to.equal(segment.maxTimestamp);
    expect(store.calls.getRange).to.equal(1);
    expect(store.calls.ranges).to.deep.equal([[segment.sizeBytes - 65536, 65536]]);
    expect(store.total).to.equal(1);

    const other = new SegmentReader();
    store.reset();
    await other.readFooter(store, key);
    expect(store.calls).to.include({ head: 1, getRange: 1 });
    expect(store.total).to.equal(2);
  });

  it('reads the footer of a 40 MiB segment with one ranged read of 64 KiB', async function () {
    this.timeout(60_000);
    const big = buildSegment(
      Array.from({ length: 40 * 1024 }, (_, i) => fakeBatch({ baseOffset: i, payload: 1024 - 61 })),
    );
    await store.put('big.seg', big.bytes);
    store.reset();
    const footer = await new SegmentReader().readFooter(store, 'big.seg', { sizeBytes: big.sizeBytes });
    expect(footer.relativeOffsets.length).to.be.at.most(8000);
    expect(footer.endOffset).to.equal(40 * 1024);
    expect(store.calls.ranges).to.deep.equal([[big.sizeBytes - 65536, 65536]]);
  });

  it('reads a footer larger than the tail read with one more read', async () => {
    const reader = new SegmentReader({ tailReadBytes: 100 });
    const footer = await reader.readFooter(store, key, { sizeBytes: segment.sizeBytes });
    expect(footer.relativeOffsets.length).to.be.greaterThan(5);
    const footerLength = footer.relativeOffsets.length * 8 + 60;
    expect(store.calls.ranges).to.deep.equal([
      [segment.sizeBytes - 100, 100],
      [segment.sizeBytes - footerLength, footerLength - 100],
    ]);
  });

  it('reads the footer of a segment smaller than the tail read', async () => {
    const small = buildSegment([fakeBatch({ baseOffset: 5 })]);
    await store.put('small.seg', small.bytes);
    store.reset();
    const footer = await new SegmentReader().readFooter(store, 'small.seg', { sizeBytes: small.sizeBytes });
    expect(footer).to.include({ baseOffset: 5, endOffset: 6, batchCount: 1 });
    expect(store.calls.ranges).to.deep.equal([[0, small.sizeBytes]]);
  });

  it('tells a cached footer from another object of the same key and size by its max timestamp', async () => {
    const reader = new SegmentReader();
    const k = 'topics/re/0/00000000000000000000-00000000000000000001-e1.seg';
    const old = buildSegment([fakeBatch({ baseOffset: 0, payload: Buffer.from('old!'), baseTimestamp: 1000 })]);
    const fresh = buildSegment([fakeBatch({ baseOffset: 0, payload: Buffer.from('new!'), baseTimestamp: 2000 })]);
    expect(fresh.sizeBytes).to.equal(old.sizeBytes);
    await store.put(k, old.bytes);
    const first = await reader.readBatches(store, k, 0, 1024, {
      sizeBytes: old.sizeBytes,
      maxTimestamp: old.maxTimestamp,
    });
    expect(first.bytes.subarray(-4).toString()).to.equal('old!');
    // The topic is deleted and created again elsewhere: same key, same size, other records.
    await store.put(k, fresh.bytes);
    const second = await reader.readBatches(store, k, 0, 1024, {
      sizeBytes: fresh.sizeBytes,
      maxTimestamp: fresh.maxTimestamp,
    });
    expect(second.bytes.subarray(-4).toString()).to.equal('new!');
  });

  it('finds every offset of a multi-batch segment and returns exactly its batch', async () => {
    const reader = new SegmentReader({ dataCacheBytes: 0 });
    await reader.readFooter(store, key, { sizeBytes: segment.sizeBytes });
    for (let offset = segment.baseOffset; offset < segment.endOffset; offset++) {
      store.reset();
      const read = await reader.readBatches(store, key, offset, 0, { sizeBytes: segment.sizeBytes });
      const want = expected(batches, offset, 0);
      expect(read.firstOffset, `offset ${offset}`).to.equal(want.firstOffset);
      expect(read.nextOffset, `offset ${offset}`).to.equal(want.nextOffset);
      expect(read.batchCount).to.equal(1);
      expect(read.bytes.equals(want.bytes), `bytes at offset ${offset}`).to.equal(true);
      expect(store.calls.getRange, `one data read for offset ${offset}`).to.equal(1);
      expect(store.total).to.equal(1);
    }
  });

  it('returns whole batches up to maxBytes, at least one', async () => {
    for (const dataCacheBytes of [0, 64 * 1024 * 1024]) {
      const reader = new SegmentReader({ dataCacheBytes });
      for (const maxBytes of [1, 700, 5000, 20_000, 10_000_000]) {
        for (let offset = segment.baseOffset; offset < segment.endOffset; offset += 7) {
          const read = await reader.readBatches(store, key, offset, maxBytes);
          const want = expected(batches, offset, maxBytes);
          const label = `offset ${offset}, maxBytes ${maxBytes}, cache ${dataCacheBytes}`;
          expect({ ...read, bytes: read.bytes.length }, label).to.deep.equal({ ...want, bytes: want.bytes.length });
          expect(read.bytes.equals(want.bytes), label).to.equal(true);
        }
      }
    }
    const everything = await new SegmentReader().readBatches(store, key, segment.baseOffset, 10_000_000);
    expect(everything.bytes.equals(Buffer.concat(batches))).to.equal(true);
    expect(everything.nextOffset).to.equal(segment.endOffset);
  });

  it('returns a batch larger than maxBytes on its own', async () => {
    const big = [
      fakeBatch({ baseOffset: 0, payload: 100 }),
      fakeBatch({ baseOffset: 1, recordCount: 3, payload: 50_000 }),
      fakeBatch({ baseOffset: 4 }),
    ];
    const built = buildSegment(big);
    await store.put('big.seg', built.bytes);
    const read = await new SegmentReader().readBatches(store, 'big.seg', 2, 1000);
    expect(read).to.include({ firstOffset: 1, nextOffset: 4, batchCount: 1 });
    expect(read.bytes.equals(big[1]!)).to.equal(true);
  });

  it('serves repeated reads from the caches without store requests', async () => {
    const reader = new SegmentReader();
    const first = await reader.readBatches(store, key, 1200, 3000, { sizeBytes: segment.sizeBytes });
    expect(store.calls.getRange).to.equal(2); // footer, then data
    store.reset();
    const again = await reader.readBatches(store, key, 1200, 3000, { sizeBytes: segment.sizeBytes });
    expect(store.total).to.equal(0);
    expect(again.bytes.equals(first.bytes)).to.equal(true);
    expect(reader.stats.footers.hits).to.equal(1);
    expect(reader.stats.data.hits).to.be.greaterThan(0);
    // A nearby offset in blocks already cached needs no request either.
    await reader.readBatches(store, key, first.firstOffset + 1, 100, { sizeBytes: segment.sizeBytes });
    expect(store.total).to.equal(0);
  });

  it('re-reads evicted blocks when the data cache is small', async () => {
    const reader = new SegmentReader({ dataCacheBytes: 8 * 1024 });
    await reader.readBatches(store, key, segment.baseOffset, 100);
    // ~100 KiB of blocks through an 8 KiB cache
    await reader.readBatches(store, key, segment.baseOffset + 100, 100_000);
    store.reset();
    await reader.readBatches(store, key, segment.baseOffset, 100);
    expect(store.calls.getRange).to.equal(1);
    expect(reader.stats.data.evictions).to.be.greaterThan(0);
  });

  it('shares one footer load between concurrent readers', async () => {
    const reader = new SegmentReader();
    await Promise.all([
      reader.readFooter(store, key),
      reader.readFooter(store, key),
      reader.readBatches(store, key, 1000, 10),
    ]);
    expect(store.calls.head).to.equal(1);
  });

  it('reloads the footer when the known size differs from the cached one, or after invalidate', async () => {
    const reader = new SegmentReader();
    await reader.readFooter(store, key, { sizeBytes: segment.sizeBytes });
    const replacement = buildSegment(variedBatches(1000, 10));
    await store.put(key, replacement.bytes);
    store.reset();
    const footer = await reader.readFooter(store, key, { sizeBytes: replacement.sizeBytes });
    expect(footer.batchCount).to.equal(10);
    expect(store.calls.getRange).to.equal(1);
    reader.invalidate(store, key);
    store.reset();
    await reader.readFooter(store, key);
    expect(store.calls.getRange).to.equal(1);
  });

  it('raises OffsetOutOfRangeError outside the segment, InvalidRequestError for bad arguments', async () => {
    const reader = new SegmentReader();
    for (const offset of [999, segment.endOffset, segment.endOffset + 100]) {
      const error = await rejection(reader.readBatches(store, key, offset, 100));
      expect(error, String(offset)).to.be.instanceOf(OffsetOutOfRangeError);
      expect((error as OffsetOutOfRangeError).context).to.deep.equal({ objectKey: key, offset });
    }
    expect(await rejection(reader.readBatches(store, key, -1, 100))).to.be.instanceOf(InvalidRequestError);
    expect(await rejection(reader.readBatches(store, key, 1000, -1))).to.be.instanceOf(InvalidRequestError);
    expect(await rejection(reader.readBatches(store, key, 1000.5, 1))).to.be.instanceOf(InvalidRequestError);
    expect(() => new SegmentReader({ tailReadBytes: 10 })).to.throw(InvalidConfigError);
  });

  it('passes ObjectNotFoundError through for a missing segment', async () => {
    const reader = new SegmentReader();
    expect(await rejection(reader.readBatches(store, 'topics/t/0/missing.seg', 0, 1))).to.be.instanceOf(
      ObjectNotFoundError,
    );
    expect(
      await rejection(reader.readBatches(store, 'topics/t/0/missing.seg', 0, 1, { sizeBytes: 500 })),
    ).to.be.instanceOf(ObjectNotFoundError);
  });
});
