/**
 * Produce refuses every batch a consumer could not decode or that would
 * poison its partition, writes nothing of it, and keeps serving: hostile
 * batches with a correct CRC, one per rule, and mutated batches fuzzed
 * through a real agent.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { AckMode } from '../../../src/protocol/generated/streamhouse.js';
import { fromErrorInfo, type StreamHouseError } from '../../../src/protocol/errors.js';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../../src/protocol/codec/recordBatch.js';
import { lz4Compress } from '../../../src/protocol/codec/compression.js';
import { lz4FrameCompress } from '../../../src/protocol/codec/compress/lz4Frame.js';
import { gzipSync } from 'node:zlib';

/** `zstd --zstd=wlog=17` of 2 MiB of zeros: a 128 KiB window, no content size. */
const ZSTD_2MIB_ZEROS = new Uint8Array(
  Buffer.from(
    '28b52ffd04385400001000000100fbff39c002020010000200100002001000020010000200100002001000020010004c' +
      '000008000100fcffe44e0802001000020010000200100002001000020010000200100002001000010000db238ef8',
    'hex',
  ),
);
import {
  createTestStores,
  expected,
  produce,
  readAll,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { denseRecords, rawBatch } from '../../protocol/fixtures/rawBatch.js';
import { refreshBatch } from '../../protocol/fixtures/batchTools.js';

const TOPIC = 'checked';

async function produceRaw(
  a: TestAgent,
  partition: number,
  batch: Uint8Array,
): Promise<{ baseOffset: number; error: StreamHouseError | undefined }> {
  const { results } = await a.connection.client.produce({
    acks: AckMode.ACK_MODE_DURABLE,
    producerId: -1,
    producerEpoch: -1,
    timeoutMs: 0,
    partitions: [{ topic: TOPIC, partition, batch: Buffer.from(batch.buffer, batch.byteOffset, batch.length) }],
  });
  return { baseOffset: results[0]!.baseOffset, error: fromErrorInfo(results[0]!.error) };
}

async function highWatermark(a: TestAgent, partition: number): Promise<number> {
  return (await a.metadataStore.getPartition(TOPIC, partition)).highWatermark;
}

describe('agent: Produce validates every record before storing', () => {
  let stores: TestStores;
  let a: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores, { maxDecompressedBatchBytes: 1024 * 1024, clock: () => 1_700_000_000_000 });
    await a.connection.client.createTopic({ name: TOPIC, partitions: 2, config: undefined });
    expect(await produce(a.connection, TOPIC, 0, records(2, 'before'))).to.equal(0);
  });
  afterEach(async () => {
    await a.stop();
    await stores.cleanup();
  });

  const header = (n: number) => new Uint8Array(Buffer.from(`h${n}`));
  const hostile: { name: string; batch: () => Uint8Array; code: string; message: string }[] = [
    {
      name: 'a record count that lies (2^31-1 records in 72 bytes)',
      batch: () => rawBatch({ records: denseRecords(1), recordCount: 0x7fffffff, lastOffsetDelta: 0x7ffffffe }),
      code: 'INVALID_RECORD',
      message: 'batch at byte 0 declares 2147483647 records but has only 8 bytes of records',
    },
    {
      name: 'fewer records than lastOffsetDelta says',
      batch: () => rawBatch({ records: denseRecords(2), recordCount: 2, lastOffsetDelta: 4 }),
      code: 'INVALID_RECORD',
      message: 'batch has 2 records but lastOffsetDelta 4; offsets must be dense',
    },
    {
      name: 'offset deltas with a gap',
      batch: () =>
        rawBatch({ records: [{ offsetDelta: 0 }, { offsetDelta: 2 }, { offsetDelta: 2 }], lastOffsetDelta: 2 }),
      code: 'INVALID_RECORD',
      message: 'record 1 of batch at byte 0 has offset delta 2; offsets must be dense from 0',
    },
    {
      name: 'offset deltas starting above 0',
      batch: () => rawBatch({ records: [{ offsetDelta: 1 }, { offsetDelta: 2 }], lastOffsetDelta: 1 }),
      code: 'INVALID_RECORD',
      message: 'record 0 of batch at byte 0 has offset delta 1; offsets must be dense from 0',
    },
    {
      name: 'a forged max timestamp',
      batch: () => rawBatch({ records: denseRecords(3), maxTimestamp: 1_700_000_000_000 + 10_000 }),
      code: 'INVALID_RECORD',
      message: 'batch at byte 0 has maxTimestamp 1700000010000 but its records reach 1700000000002',
    },
    {
      name: 'a max timestamp two hours ahead of the clock',
      batch: () => rawBatch({ records: [{ offsetDelta: 0, timestampDelta: 7_200_000 }] }),
      code: 'INVALID_TIMESTAMP',
      message: 'batch max timestamp 1700007200000 is more than the accepted 1700003600000 (too far in the future)',
    },
    {
      name: 'a key longer than its record',
      batch: () =>
        rawBatch({
          records: [{ offsetDelta: 0, key: new Uint8Array(3) }],
          recordsSection: new Uint8Array([0x10, 0, 0, 0, 0x50, 1, 2, 3, 2, 0x61, 0]),
        }),
      code: 'INVALID_RECORD',
      message: 'record 0 of batch at byte 0 has key length 40 with 4 bytes left',
    },
    {
      name: 'bytes after the last record',
      batch: () =>
        rawBatch({ records: denseRecords(1), recordsSection: new Uint8Array([...rawBatchRecords(1), 0, 0]) }),
      code: 'INVALID_RECORD',
      message: 'batch at byte 0 has 2 bytes after its 1 records',
    },
    {
      name: 'bytes inside a record after its headers',
      batch: () => rawBatch({ records: [{ offsetDelta: 0, trailing: new Uint8Array([7]) }] }),
      code: 'INVALID_RECORD',
      message: 'record 0 of batch at byte 0 ends at byte 69, its length says 70',
    },
    {
      name: 'a header key that is not UTF-8',
      batch: () =>
        rawBatch({ records: [{ offsetDelta: 0, headers: [{ key: new Uint8Array([0xc3, 0x28]), value: header(1) }] }] }),
      code: 'INVALID_RECORD',
      message: 'record 0 of batch at byte 0 has a header key that is not valid UTF-8',
    },
    {
      name: 'a negative header count',
      batch: () =>
        rawBatch({ records: [{ offsetDelta: 0 }], recordsSection: new Uint8Array([0x0e, 0, 0, 0, 1, 2, 0x61, 1]) }),
      code: 'INVALID_RECORD',
      message: 'record 0 of batch at byte 0 declares -1 headers in 0 bytes',
    },
    {
      name: 'an LZ4 payload that is garbage',
      batch: () =>
        rawBatch({
          records: denseRecords(1),
          compression: 'lz4',
          recordsSection: new Uint8Array([20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        }),
      code: 'INVALID_RECORD',
      message: 'records of batch at byte 0: lz4 payload does not decompress',
    },
    {
      name: "an LZ4 payload that decompresses past the agent's bound",
      batch: () =>
        rawBatch({
          records: denseRecords(1),
          compression: 'lz4',
          recordsSection: lz4Compress(new Uint8Array(2 * 1024 * 1024)),
        }),
      code: 'INVALID_RECORD',
      message: 'records of batch at byte 0: lz4 payload declares 2097152 bytes from',
    },
    ...(
      [
        ['gzip', gzipSync(Buffer.alloc(2 * 1024 * 1024)), 'gzip payload decompresses past 1048576 bytes'],
        ['gzip', new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff]), 'gzip payload does not decompress'],
        ['snappy', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x07]), 'snappy block declares 2147483647 bytes'],
        ['lz4', lz4FrameCompress(new Uint8Array(2 * 1024 * 1024)), 'lz4 payload decompresses past 1048576 bytes'],
        ['zstd', ZSTD_2MIB_ZEROS, 'zstd payload decompresses past 1048576 bytes'],
        ['zstd', new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0]), 'zstd payload'],
      ] as const
    ).map(([compression, recordsSection, message]) => ({
      name: `${compression} records where ${message}`,
      batch: () => rawBatch({ records: denseRecords(1), compression, recordsSection }),
      code: 'INVALID_RECORD',
      message: `records of batch at byte 0: ${message}`,
    })),
    {
      name: 'an LZ4 payload of records that do not parse',
      batch: () =>
        rawBatch({
          records: denseRecords(1),
          compression: 'lz4',
          recordsSection: lz4Compress(new Uint8Array([0x7f, 1, 2, 3, 4, 5, 6, 7])),
        }),
      code: 'INVALID_RECORD',
      message: 'record 0 of batch at byte 0 has length -64 with 7 bytes left',
    },
    {
      name: 'a CRC that does not match',
      batch: () => {
        const bytes = rawBatch({ records: denseRecords(2) });
        bytes[bytes.length - 1]! ^= 1;
        return bytes;
      },
      code: 'CORRUPT_MESSAGE',
      message: 'batch at byte 0 has crc 0x',
    },
  ];

  for (const { name, batch, code, message } of hostile) {
    it(`refuses ${name} with ${code}, writes nothing and keeps serving`, async () => {
      const { error, baseOffset } = await produceRaw(a, 0, batch());
      expect(error?.code).to.equal(code);
      expect(error?.message).to.contain(message);
      expect(baseOffset).to.equal(-1);
      expect(await highWatermark(a, 0)).to.equal(2);
      expect(await produce(a.connection, TOPIC, 0, records(1, 'after'))).to.equal(2);
      expect(await produce(a.connection, TOPIC, 1, records(1, 'other'))).to.equal(0);
      expect(await readAll(a.connection, TOPIC, 0)).to.deep.equal([...expected(0, 2, 'before'), [2, 'after-0']]);
    });
  }

  it('accepts batches that keep the rules: dense raw records, LZ4 within bounds, timestamps 1 h ahead', async () => {
    expect((await produceRaw(a, 1, rawBatch({ records: denseRecords(3) }))).error).to.equal(undefined);
    expect((await produceRaw(a, 1, rawBatch({ records: denseRecords(2), compression: 'lz4' }))).error).to.equal(
      undefined,
    );
    expect(
      (await produceRaw(a, 1, rawBatch({ records: [{ offsetDelta: 0, timestampDelta: 3_600_000 }] }))).error,
    ).to.equal(undefined);
    expect((await readAll(a.connection, TOPIC, 1)).map(([o]) => o)).to.deep.equal([0, 1, 2, 3, 4, 5]);
  });

  it('accepts any timestamp when maxTimestampAheadMs is -1', async () => {
    await a.stop();
    a = await startTestAgent(stores, { maxTimestampAheadMs: -1, clock: () => 1_700_000_000_000 });
    const far = rawBatch({ records: [{ offsetDelta: 0, timestampDelta: 100 * 365 * 86_400_000 }] });
    expect((await produceRaw(a, 1, far)).error).to.equal(undefined);
  });

  it('keeps every partition readable whole under fuzzed batches with correct CRCs', async function () {
    this.timeout(60_000);
    const accepted = new Map<number, { offset: number; value: string | null }[]>([
      [0, []],
      [1, []],
    ]);
    accepted.get(0)!.push(...expected(0, 2, 'before').map(([offset, value]) => ({ offset, value })));
    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 24 }), { nil: null }),
      timestamp: fc.integer({ min: 1_699_999_000_000, max: 1_700_000_000_000 }),
      headers: fc.array(
        fc.record({
          key: fc.string({ maxLength: 4 }),
          value: fc.option(fc.uint8Array({ maxLength: 4 }), { nil: null }),
        }),
        { maxLength: 2 },
      ),
    });
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
    );
    let runs = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('none' as const, 'lz4' as const),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 1 }),
        async (inputs: RecordInput[], compression, mutations, partition) => {
          runs++;
          const bytes = Array.from(encodeRecordBatch(inputs, { compression }));
          for (const m of mutations) {
            // the frame fields before the CRC (offset, length, epoch, magic) are the agent's or checked exactly; fuzz
            // what the CRC covers
            const at = 21 + (m.at % (bytes.length - 21));
            if (m.kind === 'flip') bytes[at]! ^= 1 << m.bit;
            else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
            else if (bytes.length > 62) bytes.splice(at, 1);
          }
          const batch = refreshBatch(new Uint8Array(bytes));
          const { error, baseOffset } = await produceRaw(a, partition, batch);
          if (error !== undefined) {
            refused++;
            expect([
              'CORRUPT_MESSAGE',
              'INVALID_RECORD',
              'INVALID_TIMESTAMP',
              'INVALID_REQUEST',
              'UNSAFE_INTEGER',
            ]).to.include(error.code);
            return;
          }
          const decoded = decodeRecordBatch(batch);
          for (const [i, r] of decoded.records.entries()) {
            accepted
              .get(partition)!
              .push({ offset: baseOffset + i, value: r.value === null ? null : Buffer.from(r.value).toString() });
          }
        },
      ),
      { numRuns: 150, seed: 1_313 },
    );
    expect(runs).to.equal(150);
    expect(refused).to.be.greaterThan(0);
    for (const partition of [0, 1]) {
      const read = await readAllNullable(a, partition);
      expect(read).to.deep.equal(accepted.get(partition));
    }
  });
});

/** Like readAll, with null values kept as null. */
async function readAllNullable(a: TestAgent, partition: number): Promise<{ offset: number; value: string | null }[]> {
  const out: { offset: number; value: string | null }[] = [];
  let position = 0;
  for (;;) {
    const { results } = await a.connection.client.fetch({
      partitions: [{ topic: TOPIC, partition, offset: position, maxBytes: 0 }],
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 0,
    });
    const r = results[0]!;
    expect(fromErrorInfo(r.error)).to.equal(undefined);
    if (r.records.length === 0) return out;
    let at = 0;
    while (at < r.records.length) {
      const batch = decodeRecordBatch(r.records, at);
      for (const record of batch.records)
        out.push({ offset: record.offset, value: record.value === null ? null : Buffer.from(record.value).toString() });
      position = batch.nextOffset;
      at += batch.size;
    }
    if (position >= r.highWatermark) return out;
  }
}

/** The records section of denseRecords(count), uncompressed. */
function rawBatchRecords(count: number): number[] {
  const bytes = rawBatch({ records: denseRecords(count) });
  return Array.from(bytes.subarray(61));
}
