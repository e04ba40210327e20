/**
 * How Fetch reads its partitions: concurrently where that gives what reading
 * them one after the other gives (the response-wide budget), in turn where
 * it would not. A fake reader records every call and answers when told.
 */
import { expect } from 'chai';
import { readAll } from '../../../src/agent/read/fetchHandler.js';
import type { PartitionReader, ReadResult } from '../../../src/agent/read/partitionReader.js';
import { OffsetOutOfRangeError } from '../../../src/protocol/errors.js';
import { ErrorCode } from '../../../src/protocol/generated/streamhouse.js';
import type { FetchRequest } from '../../../src/protocol/generated/streamhouse.js';

type Call = { kind: 'read' | 'bounds'; partition: number; maxBytes?: number };

/** A reader whose reads wait until `release()`; read sizes come from `sizes(partition, maxBytes)`. */
function fakeReader(sizes: (partition: number, maxBytes: number) => number | Error) {
  const calls: Call[] = [];
  const waiting: (() => void)[] = [];
  const reader = {
    async read(_topic: string, partition: number, _offset: number, maxBytes: number): Promise<ReadResult> {
      calls.push({ kind: 'read', partition, maxBytes });
      await new Promise<void>((resolve) => waiting.push(resolve));
      const size = sizes(partition, maxBytes);
      if (size instanceof Error) throw size;
      return { highWatermark: 100 + partition, logStartOffset: partition, records: Buffer.alloc(size, partition) };
    },
    async bounds(_topic: string, partition: number) {
      calls.push({ kind: 'bounds', partition });
      return { highWatermark: 200 + partition, logStartOffset: 0 };
    },
  };
  /** Lets every read started so far finish, until `done` settles. */
  const releaseUntil = async <T>(done: Promise<T>): Promise<T> => {
    let settled = false;
    void done.finally(() => (settled = true));
    while (!settled) {
      for (const resolve of waiting.splice(0)) resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return done;
  };
  return { reader: reader as unknown as PartitionReader, calls, waiting, releaseUntil };
}

function request(maxBytes: number, partitionMaxBytes: number[]): FetchRequest {
  return {
    partitions: partitionMaxBytes.map((max, partition) => ({ topic: 't', partition, offset: 0, maxBytes: max })),
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
  };
}

describe('agent/fetchHandler readAll', () => {
  it('starts the reads of partitions whose limits fit the budget at once, and answers in request order', async () => {
    const fake = fakeReader((partition) => [100, 40, 0][partition]!);
    const done = readAll({ reader: fake.reader, defaultFetchMaxBytes: 999 }, request(1000, [100, 100, 100]));
    await new Promise((resolve) => setImmediate(resolve));
    // all three are waiting on the store at the same time
    expect(fake.waiting).to.have.length(3);
    const results = await fake.releaseUntil(done);
    expect(fake.calls).to.deep.equal([
      { kind: 'read', partition: 0, maxBytes: 100 },
      { kind: 'read', partition: 1, maxBytes: 100 },
      { kind: 'read', partition: 2, maxBytes: 100 },
    ]);
    expect(
      results.map((r) => [r.partition, r.records.length, r.highWatermark, r.logStartOffset, r.error]),
    ).to.deep.equal([
      [0, 100, 100, 0, undefined],
      [1, 40, 101, 1, undefined],
      [2, 0, 102, 2, undefined],
    ]);
  });

  it('after a first batch overshot its limit, reads on with what is left; past the budget only bounds', async () => {
    // limits 100 + 100 fit in 250, the third does not: partitions 0 and 1 start at once, 2 waits its turn
    const fake = fakeReader((partition, maxBytes) => (partition === 0 ? 180 : maxBytes));
    const results = await fake.releaseUntil(
      readAll({ reader: fake.reader, defaultFetchMaxBytes: 999 }, request(250, [100, 100, 100])),
    );
    expect(fake.calls).to.deep.equal([
      { kind: 'read', partition: 0, maxBytes: 100 },
      { kind: 'read', partition: 1, maxBytes: 100 }, // started at once, its answer dropped: 70 bytes were left, not 100
      { kind: 'read', partition: 1, maxBytes: 70 },
      { kind: 'bounds', partition: 2 },
    ]);
    expect(results.map((r) => [r.partition, r.records.length, r.highWatermark])).to.deep.equal([
      [0, 180, 100],
      [1, 70, 101],
      [2, 0, 202],
    ]);
  });

  it('reads partitions beyond the budget in turn with what is left, at least 1 byte', async () => {
    const fake = fakeReader((_partition, maxBytes) => Math.min(maxBytes, 60));
    const results = await fake.releaseUntil(
      readAll({ reader: fake.reader, defaultFetchMaxBytes: 999 }, request(150, [100, 100, 100])),
    );
    expect(fake.calls).to.deep.equal([
      { kind: 'read', partition: 0, maxBytes: 100 },
      { kind: 'read', partition: 1, maxBytes: 90 },
      { kind: 'read', partition: 2, maxBytes: 30 },
    ]);
    expect(results.map((r) => r.records.length)).to.deep.equal([60, 60, 30]);
  });

  it("gives each partition's error in its own result, and uses the default limit and no budget for 0", async () => {
    const fake = fakeReader((partition) =>
      partition === 1 ? new OffsetOutOfRangeError('offset 0 is outside the log') : 10,
    );
    const results = await fake.releaseUntil(
      readAll({ reader: fake.reader, defaultFetchMaxBytes: 64 }, request(0, [0, 0, 5])),
    );
    expect(fake.calls).to.deep.equal([
      { kind: 'read', partition: 0, maxBytes: 64 },
      { kind: 'read', partition: 1, maxBytes: 64 },
      { kind: 'read', partition: 2, maxBytes: 5 },
    ]);
    expect(results.map((r) => [r.partition, r.records.length, r.highWatermark, r.error])).to.deep.equal([
      [0, 10, 100, undefined],
      [1, 0, -1, { code: ErrorCode.OFFSET_OUT_OF_RANGE, message: 'offset 0 is outside the log' }],
      [2, 10, 102, undefined],
    ]);
  });
});
