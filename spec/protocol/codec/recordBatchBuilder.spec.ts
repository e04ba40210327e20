import { expect } from 'chai';
import fc from 'fast-check';
import { BATCH_HEADER_SIZE, MAX_BATCH_SIZE } from '../../../src/protocol/codec/batchLayout.js';
import { InvalidRequestError, RecordTooLargeError } from '../../../src/protocol/errors.js';
import {
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  RecordBatchBuilder,
  type CompressionCodec,
  type EncodeOptions,
  type RecordHeader,
  type RecordInput,
} from '../../../src/protocol/codec/recordBatch.js';
import { encodeRecordBatchInto } from '../../../src/protocol/codec/recordBatchEncoder.js';
import { builderOf, comparable } from '../fixtures/batchTools.js';
import { GOLDEN_HEX, GOLDEN_OPTIONS, GOLDEN_RECORDS } from '../fixtures/goldenBatch.js';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const T0 = 1_700_000_000_000;

/** The builder's batch must be encodeRecordBatch's, byte for byte, and decode back to the records. */
function expectSameBatch(records: readonly RecordInput[], options: EncodeOptions = {}, initialCapacity?: number): void {
  const expected = encodeRecordBatch(records, options);
  const builder = builderOf(records, initialCapacity);
  const actual = builder.finish(options);
  expect(actual.toString('hex')).to.equal(expected.toString('hex'));
  expect(builder.count).to.equal(records.length);
  expect(builder.recordsBytes).to.equal(encodeRecordBatch(records).length - BATCH_HEADER_SIZE);
  const baseOffset = options.baseOffset ?? 0;
  expect(decodeRecordBatch(actual).records.map((r) => comparable(r))).to.deep.equal(
    records.map((r, i) => comparable(r, baseOffset + i)),
  );
}

function sequence(count: number, valueBytes: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: utf8(`key-${i}`),
    value: new Uint8Array(valueBytes).fill(i & 0xff),
    timestamp: T0 + i,
  }));
}

describe('protocol/RecordBatchBuilder', () => {
  describe("gives encodeRecordBatch's bytes", () => {
    it('for the golden batch', () => {
      expect(builderOf(GOLDEN_RECORDS).finish(GOLDEN_OPTIONS).toString('hex')).to.equal(GOLDEN_HEX);
    });

    it('for null and empty keys and values', () => {
      const empty = new Uint8Array(0);
      expectSameBatch([
        { key: null, value: null, timestamp: T0 },
        { key: empty, value: empty, timestamp: T0 },
        { key: null, value: empty, timestamp: T0 },
        { key: empty, value: null, timestamp: T0 },
      ]);
    });

    it('for keys and values of every copy path: short, long, Buffer, views at an offset', () => {
      const backing = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
      expectSameBatch([
        { key: utf8('a'), value: utf8('1234567'), timestamp: T0 },
        { key: utf8('12345678'), value: new Uint8Array(300).fill(7), timestamp: T0 },
        { key: backing.subarray(3, 6), value: backing.subarray(10, 30), timestamp: T0 },
        {
          key: new Uint8Array(backing.buffer, backing.byteOffset + 1, 9),
          value: Buffer.alloc(20_000, 1),
          timestamp: T0,
        },
      ]);
    });

    it('for headers: none, empty, null values, empty and multi-byte UTF-8 keys', () => {
      const headers: RecordHeader[] = [
        { key: 'ключ', value: utf8('значение') },
        { key: '🔑', value: null },
        { key: '', value: new Uint8Array(0) },
        { key: 'ø'.repeat(100), value: new Uint8Array(200).fill(9) },
      ];
      expectSameBatch([
        { key: utf8('k'), value: utf8('v'), timestamp: T0 },
        { key: utf8('k'), value: utf8('v'), timestamp: T0, headers: [] },
        { key: null, value: null, timestamp: T0, headers },
        { key: utf8('k'), value: null, timestamp: T0, headers: [{ key: 'h', value: null }] },
      ]);
    });

    it('for timestamps going backwards, negative, and far from the first', () => {
      expectSameBatch([
        { key: null, value: utf8('a'), timestamp: T0 },
        { key: null, value: utf8('b'), timestamp: T0 - 10_000 },
        { key: null, value: utf8('c'), timestamp: T0 + 5 },
        { key: null, value: utf8('d'), timestamp: 0 },
        { key: null, value: utf8('e'), timestamp: -(2 ** 40) },
        { key: null, value: utf8('f'), timestamp: T0 + 2 ** 45 },
        { key: null, value: utf8('g'), timestamp: T0 + 4 },
      ]);
      const first = -(2 ** 52);
      expectSameBatch([
        { key: null, value: null, timestamp: first },
        { key: null, value: null, timestamp: Number.MAX_SAFE_INTEGER + first },
        { key: null, value: null, timestamp: Number.MIN_SAFE_INTEGER },
      ]);
      expectSameBatch([{ key: null, value: null, timestamp: Number.MAX_SAFE_INTEGER }]);
    });

    it('across growth of the records section, from any initial capacity', () => {
      const records = sequence(300, 100);
      for (const capacity of [0, 1, 7, 64, 4096, 16 * 1024, 1 << 20]) expectSameBatch(records, {}, capacity);
      // one record larger than twice the capacity
      expectSameBatch([{ key: null, value: new Uint8Array(100_000).fill(3), timestamp: T0 }], {}, 16);
    });

    it('for 1 and for 10,000 records', () => {
      expectSameBatch(sequence(1, 100));
      expectSameBatch(sequence(10_000, 100));
      expectSameBatch(sequence(10_000, 100), { compression: 'lz4' });
    });

    it('for every encode option, at its bounds', () => {
      const records = sequence(20, 30);
      const optionSets: EncodeOptions[] = [
        {},
        { baseOffset: 0 },
        { baseOffset: 1234 },
        { baseOffset: 2 ** 53 - 1 - 20 }, // the last record at offset 2^53 - 2, the next at 2^53 - 1
        { compression: 'none' },
        { compression: 'lz4' },
        { producerId: -1, producerEpoch: -1, baseSequence: -1 },
        { producerId: 0, producerEpoch: 0, baseSequence: 0 },
        { producerId: 2 ** 53 - 1, producerEpoch: 32767, baseSequence: 2 ** 31 - 1 },
        { leaderEpoch: -1 },
        { leaderEpoch: 2 ** 31 - 1 },
        { baseOffset: 99, compression: 'lz4', producerId: 12, producerEpoch: 3, baseSequence: 400, leaderEpoch: 7 },
      ];
      for (const options of optionSets) expectSameBatch(records, options);
    });

    it('for lz4 batches that compress well and batches that do not', () => {
      expectSameBatch(sequence(500, 100), { compression: 'lz4' });
      const noise = Array.from({ length: 50 }, (_, i) => ({
        key: null,
        value: Uint8Array.from({ length: 200 }, (_, j) => (i * 7919 + j * 104729) % 251),
        timestamp: T0 + i,
      }));
      expectSameBatch(noise, { compression: 'lz4' });
    });

    it('for random records and options (property)', () => {
      const bytes = fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null });
      const header = fc.record({ key: fc.string({ unit: 'binary', maxLength: 12 }), value: bytes });
      const record = fc.record(
        {
          key: bytes,
          value: bytes,
          timestamp: fc.integer({ min: -(2 ** 51), max: 2 ** 51 }),
          headers: fc.array(header, { maxLength: 3 }),
        },
        { requiredKeys: ['key', 'value', 'timestamp'] },
      );
      const options = fc.record(
        {
          baseOffset: fc.integer({ min: 0, max: 2 ** 52 }),
          compression: fc.constantFrom<CompressionCodec>('none', 'lz4'),
          producerId: fc.integer({ min: -1, max: 2 ** 53 - 1 }),
          producerEpoch: fc.integer({ min: -1, max: 32767 }),
          baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
          leaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
        },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(
          fc.array(record, { minLength: 1, maxLength: 40 }),
          options,
          fc.integer({ min: 0, max: 2048 }),
          (records, encodeOptions, capacity) => expectSameBatch(records, encodeOptions, capacity),
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('append', () => {
    it('encodes each record when it is appended: later changes to its bytes do not reach the batch', () => {
      const key = utf8('key-0');
      const value = new Uint8Array(100).fill(1);
      const headers: RecordHeader[] = [{ key: 'h', value: utf8('x') }];
      const expected = encodeRecordBatch([{ key, value, headers, timestamp: T0 }]);
      const builder = new RecordBatchBuilder();
      builder.append(key, value, headers, T0);
      key.fill(0);
      value.fill(0);
      headers[0] = { key: 'changed', value: null };
      expect(builder.finish().equals(expected)).to.equal(true);
    });

    it('counts records and bytes, and keeps the first and the largest timestamp', () => {
      const builder = new RecordBatchBuilder();
      expect([builder.count, builder.recordsBytes, builder.baseTimestamp, builder.maxTimestamp]).to.deep.equal([
        0, 0, 0, 0,
      ]);
      builder.append(null, utf8('a'), undefined, 50);
      builder.append(null, utf8('b'), undefined, 20);
      builder.append(null, utf8('c'), undefined, 90);
      builder.append(null, utf8('d'), undefined, 60);
      expect(builder.count).to.equal(4);
      expect(builder.baseTimestamp).to.equal(50);
      expect(builder.maxTimestamp).to.equal(90);
      expect(builder.recordsBytes + BATCH_HEADER_SIZE).to.equal(builder.finish().length);
      const batch = decodeRecordBatch(builder.finish());
      expect([batch.baseTimestamp, batch.maxTimestamp, batch.recordCount, batch.lastOffsetDelta]).to.deep.equal([
        50, 90, 4, 3,
      ]);
    });

    type Append = {
      name: string;
      args: [unknown, unknown, unknown, unknown];
      error: typeof InvalidRequestError | typeof RecordTooLargeError;
    };
    const base: RecordInput[] = [
      { key: utf8('a'), value: utf8('1'), timestamp: T0 },
      { key: null, value: utf8('2'), timestamp: T0 + 1, headers: [{ key: 'h', value: null }] },
    ];
    const invalid: Append[] = [
      { name: 'a string key', args: ['key', utf8('v'), undefined, T0], error: InvalidRequestError },
      { name: 'an undefined value', args: [null, undefined, undefined, T0], error: InvalidRequestError },
      { name: 'a number value', args: [null, 5, undefined, T0], error: InvalidRequestError },
      { name: 'an array value', args: [null, [1, 2], undefined, T0], error: InvalidRequestError },
      { name: 'headers that are not an array', args: [null, null, { length: 0 }, T0], error: InvalidRequestError },
      { name: 'null headers', args: [null, null, null, T0], error: InvalidRequestError },
      {
        name: 'a header without a string key',
        args: [null, null, [{ key: 1, value: null }], T0],
        error: InvalidRequestError,
      },
      { name: 'a null header', args: [null, null, [{ key: 'a', value: null }, null], T0], error: InvalidRequestError },
      {
        name: 'a header value that is a string',
        args: [null, null, [{ key: 'a', value: 'v' }], T0],
        error: InvalidRequestError,
      },
      { name: 'a NaN timestamp', args: [null, null, undefined, Number.NaN], error: InvalidRequestError },
      { name: 'a fractional timestamp', args: [null, null, undefined, T0 + 0.5], error: InvalidRequestError },
      { name: 'an infinite timestamp', args: [null, null, undefined, Infinity], error: InvalidRequestError },
      { name: 'a timestamp beyond 2^53', args: [null, null, undefined, 2 ** 53], error: InvalidRequestError },
      {
        name: 'a timestamp more than 2^53 from the first',
        args: [null, null, undefined, -(2 ** 53) + 2],
        error: InvalidRequestError,
      },
      { name: 'a string timestamp', args: [null, null, undefined, String(T0)], error: InvalidRequestError },
      {
        name: 'a value over MAX_BATCH_SIZE',
        args: [null, new Uint8Array(MAX_BATCH_SIZE + 1), undefined, T0],
        error: RecordTooLargeError,
      },
    ];
    for (const { name, args, error } of invalid) {
      it(`refuses ${name} like encodeRecordBatch does, and stays as it was`, () => {
        const builder = builderOf(base);
        const before = builder.finish({ baseSequence: 3 });
        const [key, value, headers, timestamp] = args;
        const append = (): void =>
          builder.append(
            key as Uint8Array | null,
            value as Uint8Array | null,
            headers as RecordHeader[] | undefined,
            timestamp as number,
          );
        const bad = { key, value, headers, timestamp } as RecordInput;
        let encoderError: unknown;
        try {
          encodeRecordBatch([...base, bad]);
        } catch (e) {
          encoderError = e;
        }
        expect(encoderError).to.be.instanceOf(error);
        expect(append).to.throw(error, (encoderError as Error).message);
        expect([builder.count, builder.recordsBytes]).to.deep.equal([2, before.length - BATCH_HEADER_SIZE]);
        expect(builder.finish({ baseSequence: 3 }).equals(before)).to.equal(true);
        // the next record takes the index the refused one did not
        builder.append(utf8('c'), utf8('3'), undefined, T0 + 2);
        expectBatchOf(builder, [...base, { key: utf8('c'), value: utf8('3'), timestamp: T0 + 2 }]);
      });
    }

    it("refuses a bad first timestamp, with the encoder's message, and stays empty", () => {
      for (const timestamp of [Number.NaN, 1.5, 2 ** 53, -Infinity]) {
        const builder = new RecordBatchBuilder();
        expect(() => builder.append(null, null, undefined, timestamp)).to.throw(
          InvalidRequestError,
          `record 0 has timestamp ${timestamp}, not a safe integer`,
        );
        expect(() => encodeRecordBatch([{ key: null, value: null, timestamp }])).to.throw(
          InvalidRequestError,
          `record 0 has timestamp ${timestamp}, not a safe integer`,
        );
        expect([builder.count, builder.recordsBytes]).to.deep.equal([0, 0]);
        builder.append(null, utf8('x'), undefined, 7);
        expectBatchOf(builder, [{ key: null, value: utf8('x'), timestamp: 7 }]);
      }
    });

    it('refuses a record that would take the records section over the batch limit, and stays as it was', () => {
      const big = new Uint8Array(40 * 1024 * 1024);
      const builder = new RecordBatchBuilder();
      builder.append(null, big, undefined, T0);
      const bytes = builder.recordsBytes;
      expect(() => builder.append(null, big, undefined, T0)).to.throw(
        RecordTooLargeError,
        'records up to index 1 take',
      );
      expect(() =>
        encodeRecordBatch([
          { key: null, value: big, timestamp: T0 },
          { key: null, value: big, timestamp: T0 },
        ]),
      ).to.throw(RecordTooLargeError, 'records up to index 1 take');
      expect([builder.count, builder.recordsBytes]).to.deep.equal([1, bytes]);
      builder.append(utf8('small'), null, undefined, T0);
      const batch = decodeRecordBatch(builder.finish());
      expect(batch.records.map((r) => [r.offset, r.key?.length ?? null, r.value?.length ?? null])).to.deep.equal([
        [0, null, big.length],
        [1, 5, null],
      ]);
    });
  });

  describe('finishInto / finish', () => {
    it('refuses an empty builder like the encoder refuses an empty list', () => {
      const builder = new RecordBatchBuilder();
      expect(() => builder.finish()).to.throw(InvalidRequestError, 'a record batch needs at least one record');
      expect(() => encodeRecordBatch([])).to.throw(InvalidRequestError, 'a record batch needs at least one record');
    });

    it("refuses bad options with the encoder's errors, before asking for memory, empty or not", () => {
      const badOptions = [
        { baseOffset: -1 },
        { baseOffset: 1.5 },
        { compression: 'brotli' },
        { producerId: -2 },
        { producerEpoch: 32768 },
        { baseSequence: 2 ** 31 },
        { leaderEpoch: -2 },
      ] as unknown as EncodeOptions[];
      for (const options of badOptions) {
        for (const records of [[], oneRecord()]) {
          const builder = builderOf(records);
          let asked = false;
          const allocate = (size: number) => {
            asked = true;
            return { buffer: Buffer.alloc(size), offset: 0 };
          };
          let expected: unknown;
          try {
            encodeRecordBatch(records, options);
          } catch (e) {
            expected = e;
          }
          expect(expected).to.be.instanceOf(InvalidRequestError);
          expect(() => builder.finishInto(options, allocate)).to.throw(
            InvalidRequestError,
            (expected as Error).message,
          );
          expect(asked).to.equal(false);
        }
      }
    });

    for (const compression of ['none', 'lz4'] as const) {
      it(`writes exactly encodeRecordBatchInto's bytes at the offset, touching nothing else (${compression})`, () => {
        const records = sequence(50, 100);
        const options = { compression, producerId: 7, producerEpoch: 1, baseSequence: 40 };
        const around = (length: number) => Buffer.alloc(length + 20, 0xee);
        let expectedTarget = Buffer.alloc(0);
        const expected = encodeRecordBatchInto(records, options, (size) => ({
          buffer: (expectedTarget = around(size)),
          offset: 13,
        }));
        const sizes: number[] = [];
        let target = Buffer.alloc(0);
        const written = builderOf(records).finishInto(options, (size) => {
          sizes.push(size);
          return { buffer: (target = around(size)), offset: 13 };
        });
        expect(sizes).to.deep.equal([expected.length]);
        expect(written).to.deep.equal({ buffer: target, offset: 13, length: expected.length });
        expect(target.equals(expectedTarget)).to.equal(true);
        expect(target.subarray(0, 13).every((b) => b === 0xee)).to.equal(true);
        expect(target.subarray(13 + expected.length).every((b) => b === 0xee)).to.equal(true);
      });
    }

    it('can finish again, with other options, and append after finishing', () => {
      const records = sequence(30, 40);
      const builder = builderOf(records.slice(0, 20));
      const first = builder.finish({ baseSequence: 1 });
      first.fill(0); // the batch is a copy: damaging it must not reach the builder
      expect(
        builder.finish({ baseSequence: 1 }).equals(encodeRecordBatch(records.slice(0, 20), { baseSequence: 1 })),
      ).to.equal(true);
      expect(
        builder
          .finish({ compression: 'lz4', baseSequence: 9 })
          .equals(encodeRecordBatch(records.slice(0, 20), { compression: 'lz4', baseSequence: 9 })),
      ).to.equal(true);
      for (const { key, value, timestamp } of records.slice(20)) builder.append(key, value, undefined, timestamp);
      expectBatchOf(builder, records);
    });

    it('gives batches that decodeRecordBatches reads back, one after another', () => {
      const a = sequence(10, 5);
      const b: RecordInput[] = [
        { key: null, value: utf8('x'), timestamp: 5, headers: [{ key: 'ключ', value: null }] },
        { key: utf8('y'), value: null, timestamp: 3 },
      ];
      const bytes = Buffer.concat([
        builderOf(a).finish({ baseOffset: 100 }),
        builderOf(b).finish({ baseOffset: 110, compression: 'lz4' }),
      ]);
      const batches = decodeRecordBatches(bytes);
      expect(batches.map((batch) => batch.baseOffset)).to.deep.equal([100, 110]);
      expect(batches.flatMap((batch) => batch.records).map((r) => comparable(r))).to.deep.equal(
        [...a, ...b].map((r, i) => comparable(r, 100 + i)),
      );
    });
  });

  describe('reset', () => {
    it('starts a new batch in the same memory, leaving finished batches as they were', () => {
      const builder = builderOf(sequence(200, 100), 1024);
      const first = builder.finish();
      const firstCopy = Buffer.from(first);
      builder.reset();
      expect([builder.count, builder.recordsBytes, builder.baseTimestamp, builder.maxTimestamp]).to.deep.equal([
        0, 0, 0, 0,
      ]);
      expect(() => builder.finish()).to.throw(InvalidRequestError, 'a record batch needs at least one record');
      const next: RecordInput[] = [
        { key: utf8('n'), value: null, timestamp: 5 },
        { key: null, value: utf8('m'), timestamp: 3 },
      ];
      for (const { key, value, timestamp } of next) builder.append(key, value, undefined, timestamp);
      expectBatchOf(builder, next);
      expect(first.equals(firstCopy)).to.equal(true);
    });
  });

  it('refuses an initial capacity that is not an integer from 0 to the records limit', () => {
    for (const capacity of [-1, 1.5, Number.NaN, MAX_BATCH_SIZE]) {
      expect(() => new RecordBatchBuilder(capacity)).to.throw(InvalidRequestError, 'initialCapacity');
    }
    expect(new RecordBatchBuilder(0).count).to.equal(0);
  });
});

function oneRecord(): RecordInput[] {
  return [{ key: utf8('a'), value: utf8('1'), timestamp: T0 }];
}

function expectBatchOf(builder: RecordBatchBuilder, records: RecordInput[]): void {
  expect(builder.finish().toString('hex')).to.equal(encodeRecordBatch(records).toString('hex'));
}
