import { expect } from 'chai';
import fc from 'fast-check';
import { crc32c } from '@node-rs/crc32';
import { LZ4_FRAME_MAGIC, lz4FrameDecompress } from '../../../src/protocol/codec/compress/lz4Frame.js';
import {
  CorruptMessageError,
  InvalidRequestError,
  RecordTooLargeError,
  UnsafeIntegerError,
} from '../../../src/protocol/errors.js';
import {
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  stampBatch,
  stampProducerFields,
  validateBatch,
  verifyBatchCrc,
  type CompressionCodec,
  type RecordInput,
} from '../../../src/protocol/codec/recordBatch.js';
import { checkRecordBatch } from '../../../src/protocol/codec/recordBatchDecoder.js';
import { comparable, copyOf, hex, refreshBatch } from '../fixtures/batchTools.js';
import { GOLDEN_CRC, GOLDEN_DECODED, GOLDEN_HEX, GOLDEN_OPTIONS, GOLDEN_RECORDS } from '../fixtures/goldenBatch.js';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const golden = (): Uint8Array => new Uint8Array(Buffer.from(GOLDEN_HEX, 'hex'));

/** Bitwise CRC-32C, independent of the native one the codec uses. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function roundTrip(records: RecordInput[], compression: CompressionCodec, baseOffset = 0): void {
  const bytes = encodeRecordBatch(records, { compression, baseOffset });
  const batch = decodeRecordBatch(bytes);
  expect(batch.size).to.equal(bytes.length);
  expect(batch.compression).to.equal(compression);
  expect(batch.recordCount).to.equal(records.length);
  expect(batch.lastOffsetDelta).to.equal(records.length - 1);
  expect(batch.nextOffset).to.equal(baseOffset + records.length);
  expect(batch.baseTimestamp).to.equal(records[0]!.timestamp);
  expect(batch.maxTimestamp).to.equal(Math.max(...records.map((r) => r.timestamp)));
  expect(batch.records.map((r) => comparable(r))).to.deep.equal(records.map((r, i) => comparable(r, baseOffset + i)));
}

const codecs: CompressionCodec[] = ['none', 'lz4'];

describe('protocol/recordBatch', () => {
  describe('golden batch', () => {
    it('has the CRC an independent CRC-32C gives for bytes [21, end)', () => {
      expect(referenceCrc32c(golden().subarray(21))).to.equal(GOLDEN_CRC);
      expect(Buffer.from(golden()).readUInt32BE(17)).to.equal(GOLDEN_CRC);
    });

    it('is exactly what the encoder writes', () => {
      const bytes = encodeRecordBatch(GOLDEN_RECORDS, GOLDEN_OPTIONS);
      expect(bytes.length).to.equal(87);
      expect(bytes.toString('hex')).to.equal(GOLDEN_HEX);
    });

    it('decodes to exactly its records and header fields', () => {
      const batch = decodeRecordBatch(golden());
      const { records, ...header } = batch;
      expect(header).to.deep.equal({
        baseOffset: 100,
        leaderEpoch: 3,
        attributes: 0,
        compression: 'none',
        lastOffsetDelta: 1,
        nextOffset: 102,
        baseTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_005,
        producerId: 42,
        producerEpoch: 1,
        baseSequence: 9,
        recordCount: 2,
        size: 87,
      });
      expect(records).to.deep.equal(GOLDEN_DECODED);
    });

    it('gives keys and values as views over the input, not copies', () => {
      const input = Buffer.concat([Buffer.from('xyz'), Buffer.from(GOLDEN_HEX, 'hex')]);
      const [record0, record1] = decodeRecordBatch(input, 3).records;
      expect(record0!.key!.buffer).to.equal(input.buffer);
      expect(record0!.key!.byteOffset).to.equal(input.byteOffset + 3 + 66);
      expect(record0!.value!.byteOffset).to.equal(input.byteOffset + 3 + 69);
      expect(record1!.value!.byteOffset).to.equal(input.byteOffset + 3 + 78);
      expect(record1!.value!.length).to.equal(5);
      input[3 + 78] = 0x4a; // 'J'
      expect(Buffer.from(record1!.value!).toString()).to.equal('Jello');
    });
  });

  describe('checkRecordBatch and its RecordCursor', () => {
    it('give the header fields, then each record in turn, then false', () => {
      const input = Buffer.concat([Buffer.from('xyz'), Buffer.from(GOLDEN_HEX, 'hex')]);
      const checked = checkRecordBatch(input, 3);
      expect(checked.frame).to.include({
        position: 3,
        size: 87,
        baseOffset: 100,
        lastOffsetDelta: 1,
        nextOffset: 102,
        recordCount: 2,
      });
      expect([checked.attributes, checked.compression, checked.baseTimestamp, checked.producerId]).to.deep.equal([
        0,
        'none',
        1_700_000_000_000,
        42,
      ]);
      const { cursor } = checked;
      expect(cursor.count).to.equal(2);
      expect(cursor.next()).to.equal(true);
      expect([
        cursor.offset,
        cursor.timestamp,
        Buffer.from(cursor.key!).toString(),
        Buffer.from(cursor.value!).toString(),
      ]).to.deep.equal([100, 1_700_000_000_000, 'k1', 'v1']);
      expect(cursor.value!.byteOffset).to.equal(input.byteOffset + 3 + 69); // a view, as decodeRecordBatch gives
      const firstHeaders = cursor.headers;
      expect(firstHeaders).to.deep.equal([]);
      expect(cursor.next()).to.equal(true);
      expect([cursor.offset, cursor.timestamp, cursor.key, Buffer.from(cursor.value!).toString()]).to.deep.equal([
        101,
        1_700_000_000_005,
        null,
        'hello',
      ]);
      expect(cursor.headers).to.deep.equal([{ key: 'h', value: null }]);
      expect(cursor.next()).to.equal(false);
      expect(cursor.next()).to.equal(false);
      // a record with headers gets an array of its own
      expect(cursor.headers).to.not.equal(firstHeaders);
    });

    it('share one frozen empty headers array among records without; decodeRecordBatch gives each its own', () => {
      const records: RecordInput[] = [
        { key: utf8('a'), value: utf8('1'), timestamp: 1 },
        { key: utf8('b'), value: utf8('2'), timestamp: 2, headers: [{ key: 'h', value: utf8('x') }] },
        { key: utf8('c'), value: utf8('3'), timestamp: 3 },
      ];
      const bytes = encodeRecordBatch(records);
      const { cursor } = checkRecordBatch(bytes);
      const seen: (readonly unknown[])[] = [];
      while (cursor.next()) seen.push(cursor.headers);
      expect(seen[0]).to.equal(seen[2]);
      expect(Object.isFrozen(seen[0])).to.equal(true);
      expect(seen[0]).to.deep.equal([]);
      expect(seen[1]).to.deep.equal([{ key: 'h', value: utf8('x') }]);
      // DecodedRecord.headers is a mutable array: one per record, never the shared one
      const decoded = decodeRecordBatch(bytes).records.map((r) => r.headers);
      expect(decoded[0]).to.not.equal(decoded[2]);
      expect(Object.isFrozen(decoded[0])).to.equal(false);
      expect(decoded[0]).to.not.equal(seen[0]);
    });

    // Each cursor reads from a table of record fields its check filled; finished cursors hand theirs on.
    it('keep batches read side by side apart, also when one is left unfinished or a table is reused', () => {
      const batchA = encodeRecordBatch(
        Array.from({ length: 5 }, (_, i) => ({ key: utf8(`a${i}`), value: utf8(`A${i}`), timestamp: 1_000 + i })),
        { baseOffset: 10 },
      );
      const batchB = encodeRecordBatch(
        [
          { key: null, value: utf8('B0'), timestamp: 2_000, headers: [{ key: 'k', value: null }] },
          { key: utf8('b1'), value: null, timestamp: 1_999 },
        ],
        { baseOffset: 50 },
      );
      const fields = (c: ReturnType<typeof checkRecordBatch>['cursor']) => [
        c.offset,
        c.timestamp,
        c.key === null ? null : Buffer.from(c.key).toString(),
        c.value === null ? null : Buffer.from(c.value).toString(),
        c.headers.map((h) => h.key),
      ];
      const a = checkRecordBatch(batchA).cursor;
      const b = checkRecordBatch(batchB).cursor;
      expect(a.next()).to.equal(true);
      expect(b.next()).to.equal(true);
      expect(fields(a)).to.deep.equal([10, 1_000, 'a0', 'A0', []]);
      expect(fields(b)).to.deep.equal([50, 2_000, null, 'B0', ['k']]);
      expect(b.next()).to.equal(true);
      expect(a.next()).to.equal(true);
      expect(fields(b)).to.deep.equal([51, 1_999, 'b1', null, []]);
      expect(fields(a)).to.deep.equal([11, 1_001, 'a1', 'A1', []]);
      expect(b.next()).to.equal(false); // b's table goes back to the pool; a is left unfinished
      const b2 = checkRecordBatch(batchB).cursor; // may take b's table: longer than it needs
      expect(a.next()).to.equal(true);
      expect(fields(a)).to.deep.equal([12, 1_002, 'a2', 'A2', []]);
      const again: unknown[] = [];
      while (b2.next()) again.push(fields(b2));
      expect(again).to.deep.equal([
        [50, 2_000, null, 'B0', ['k']],
        [51, 1_999, 'b1', null, []],
      ]);
      const a2 = checkRecordBatch(batchA).cursor; // a table from a 2-record batch grown to 5 records
      const all: unknown[] = [];
      while (a2.next()) all.push(fields(a2));
      expect(all).to.deep.equal(Array.from({ length: 5 }, (_, i) => [10 + i, 1_000 + i, `a${i}`, `A${i}`, []]));
      expect(a.next()).to.equal(true);
      expect(fields(a)).to.deep.equal([13, 1_003, 'a3', 'A3', []]);
    });

    it('check the whole batch before the first record: a bad last record fails the call, not a later next()', () => {
      const bytes = encodeRecordBatch(
        [
          { key: utf8('a'), value: utf8('1'), timestamp: 1 },
          { key: utf8('b'), value: utf8('2'), timestamp: 2 },
        ],
        { baseOffset: 0 },
      );
      // the second record's value length (zigzag 2 = 1 byte) becomes 3 bytes: past the record, CRC recomputed
      const damaged = copyOf(bytes);
      damaged[damaged.length - 3] = 6;
      refreshBatch(damaged);
      expect(() => checkRecordBatch(damaged)).to.throw(
        CorruptMessageError,
        'record 1 of batch at byte 0 has value length 3 with 2 bytes left',
      );
      expect(() => decodeRecordBatch(damaged)).to.throw(
        CorruptMessageError,
        'record 1 of batch at byte 0 has value length 3 with 2 bytes left',
      );
    });

    it('read lz4 batches from the section decompressed once, and long varints (offset and timestamp deltas)', () => {
      const records: RecordInput[] = Array.from({ length: 300 }, (_, i) => ({
        key: null,
        value: utf8(`v${i}`),
        timestamp: 1_700_000_000_000 + i * 10_000_000,
      }));
      const { cursor } = checkRecordBatch(encodeRecordBatch(records, { compression: 'lz4', baseOffset: 5 }));
      const seen: [number, number, string][] = [];
      while (cursor.next()) seen.push([cursor.offset, cursor.timestamp, Buffer.from(cursor.value!).toString()]);
      expect(seen).to.have.length(300);
      expect(seen[0]).to.deep.equal([5, 1_700_000_000_000, 'v0']);
      expect(seen[299]).to.deep.equal([304, 1_700_000_000_000 + 2_990_000_000, 'v299']);
    });
  });

  describe('round trips', () => {
    for (const compression of codecs) {
      describe(`compression ${compression}`, () => {
        it('keeps null keys, empty keys, empty and null values apart', () => {
          roundTrip(
            [
              { key: null, value: utf8('a'), timestamp: 10 },
              { key: new Uint8Array(0), value: new Uint8Array(0), timestamp: 10 },
              { key: utf8('k'), value: null, timestamp: 10 },
              { key: null, value: null, timestamp: 10 },
            ],
            compression,
          );
        });

        it('carries headers, including a null header value, an empty key and repeated keys, in order', () => {
          roundTrip(
            [
              {
                key: utf8('k'),
                value: utf8('v'),
                timestamp: 1,
                headers: [
                  { key: 'trace-id', value: utf8('abc') },
                  { key: 'flag', value: null },
                  { key: '', value: new Uint8Array(0) },
                  { key: 'trace-id', value: utf8('def') },
                ],
              },
              { key: null, value: null, timestamp: 2, headers: [] },
            ],
            compression,
          );
        });

        it('carries unicode header keys (long, short, with a leading BOM) and unicode bytes in keys and values', () => {
          const long = 'ключ-🔑-'.repeat(20);
          roundTrip(
            [
              {
                key: utf8('clé-🗝'),
                value: utf8('値 — 😀 — ünïcödé'),
                timestamp: 5,
                headers: [
                  { key: 'é', value: utf8('ü') },
                  { key: long, value: utf8(long) },
                  { key: '中文', value: null },
                  { key: '\uFEFFstarts with a byte order mark', value: null },
                  { key: '\uFEFF', value: utf8('\uFEFF') },
                ],
              },
            ],
            compression,
          );
        });

        it('encodes one record', () => {
          roundTrip([{ key: utf8('only'), value: utf8('one'), timestamp: 1_700_000_000_000 }], compression, 7);
        });

        it('encodes a 1 MiB value', () => {
          const value = new Uint8Array(1024 * 1024);
          for (let i = 0; i < value.length; i++) value[i] = (i * 2654435761) >>> 24;
          roundTrip(
            [
              { key: utf8('big'), value, timestamp: 3 },
              { key: null, value: utf8('after'), timestamp: 4 },
            ],
            compression,
          );
        });

        it('encodes 10,000 records with absolute offsets from baseOffset', () => {
          const records: RecordInput[] = [];
          for (let i = 0; i < 10_000; i++) {
            records.push({
              key: utf8(`key-${i}`),
              value: utf8(`value-${i * 7}`),
              timestamp: 1_700_000_000_000 + (i % 97),
            });
          }
          roundTrip(records, compression, 5_000_000_000);
        });

        it('stores timestamps as deltas that may be negative or beyond 32 bits', () => {
          roundTrip(
            [
              { key: null, value: null, timestamp: 1_000_000 },
              { key: null, value: null, timestamp: 0 },
              { key: null, value: null, timestamp: -5 },
              { key: null, value: null, timestamp: 1_000_000 + 2 ** 40 },
              { key: null, value: null, timestamp: Number.MAX_SAFE_INTEGER - 2 ** 52 },
            ],
            compression,
          );
        });
      });
    }

    it('round-trips random records (property)', () => {
      const bytes = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null });
      const header = fc.record({ key: fc.string({ unit: 'binary', maxLength: 12 }), value: bytes });
      const record = fc.record({
        key: bytes,
        value: bytes,
        timestamp: fc.integer({ min: -(2 ** 51), max: 2 ** 51 }),
        headers: fc.array(header, { maxLength: 3 }),
      });
      fc.assert(
        fc.property(
          fc.array(record, { minLength: 1, maxLength: 30 }),
          fc.constantFrom<CompressionCodec>('none', 'lz4'),
          fc.integer({ min: 0, max: 2 ** 52 }),
          (records, compression, baseOffset) => roundTrip(records, compression, baseOffset),
        ),
        { numRuns: 300 },
      );
    });

    it('writes the lz4 section as a little-endian uncompressed size and a block of the plain records', () => {
      const records = Array.from({ length: 50 }, (_, i) => ({
        key: utf8(`k${i}`),
        value: utf8('x'.repeat(40)),
        timestamp: i,
      }));
      const plain = encodeRecordBatch(records);
      const compressed = encodeRecordBatch(records, { compression: 'lz4' });
      expect(compressed.readInt16BE(21)).to.equal(3);
      expect(compressed.length).to.be.lessThan(plain.length / 2);
      // header fields other than attributes and crc are the same
      expect(compressed.subarray(12, 17).toString('hex')).to.equal(plain.subarray(12, 17).toString('hex'));
      expect(compressed.subarray(23, 61).toString('hex')).to.equal(plain.subarray(23, 61).toString('hex'));
      const section = compressed.subarray(61);
      expect(section.readUInt32LE(0)).to.equal(LZ4_FRAME_MAGIC);
      expect(hex(lz4FrameDecompress(section, plain.length - 61))).to.equal(hex(plain.subarray(61)));
    });

    it('decodes a concatenation of batches, as Fetch returns it', () => {
      const a = encodeRecordBatch([{ key: null, value: utf8('a'), timestamp: 1 }], { baseOffset: 0 });
      const b = encodeRecordBatch(
        [
          { key: null, value: utf8('b'), timestamp: 2 },
          { key: null, value: utf8('c'), timestamp: 3 },
        ],
        { baseOffset: 1, compression: 'lz4' },
      );
      const c = golden();
      const batches = decodeRecordBatches(Buffer.concat([a, b, c]));
      expect(batches.map((batch) => [batch.baseOffset, batch.size, batch.compression])).to.deep.equal([
        [0, a.length, 'none'],
        [1, b.length, 'lz4'],
        [100, 87, 'none'],
      ]);
      expect(batches.flatMap((batch) => batch.records.map((r) => r.offset))).to.deep.equal([0, 1, 2, 100, 101]);
      expect(decodeRecordBatches(new Uint8Array(0))).to.deep.equal([]);
    });

    it('carries producer id, epoch and sequence of idempotent batches', () => {
      const bytes = encodeRecordBatch([{ key: null, value: null, timestamp: 0 }], {
        producerId: Number.MAX_SAFE_INTEGER,
        producerEpoch: 32767,
        baseSequence: 2147483647,
        leaderEpoch: 2147483647,
      });
      const batch = decodeRecordBatch(bytes);
      expect([batch.producerId, batch.producerEpoch, batch.baseSequence, batch.leaderEpoch]).to.deep.equal([
        Number.MAX_SAFE_INTEGER,
        32767,
        2147483647,
        2147483647,
      ]);
      const defaults = decodeRecordBatch(encodeRecordBatch([{ key: null, value: null, timestamp: 0 }]));
      expect([
        defaults.baseOffset,
        defaults.producerId,
        defaults.producerEpoch,
        defaults.baseSequence,
        defaults.leaderEpoch,
      ]).to.deep.equal([0, -1, -1, -1, -1]);
    });
  });

  describe('encoder input checks', () => {
    const ok: RecordInput = { key: null, value: null, timestamp: 0 };
    const cases: Array<[string, () => unknown]> = [
      ['an empty record list', () => encodeRecordBatch([])],
      ['a NaN timestamp', () => encodeRecordBatch([{ ...ok, timestamp: NaN }])],
      ['a fractional timestamp', () => encodeRecordBatch([ok, { ...ok, timestamp: 1.5 }])],
      ['a timestamp of 2^53', () => encodeRecordBatch([{ ...ok, timestamp: 2 ** 53 }])],
      ['a string timestamp', () => encodeRecordBatch([{ ...ok, timestamp: '5' as unknown as number }])],
      [
        'timestamps more than 2^53 apart',
        () =>
          encodeRecordBatch([
            { ...ok, timestamp: Number.MIN_SAFE_INTEGER },
            { ...ok, timestamp: Number.MAX_SAFE_INTEGER },
          ]),
      ],
      ['a string key', () => encodeRecordBatch([{ ...ok, key: 'k' as unknown as Uint8Array }])],
      ['an undefined value', () => encodeRecordBatch([{ ...ok, value: undefined as unknown as null }])],
      ['a null record', () => encodeRecordBatch([ok, null as unknown as RecordInput])],
      ['headers that are not an array', () => encodeRecordBatch([{ ...ok, headers: {} as unknown as [] }])],
      [
        'a header without a string key',
        () => encodeRecordBatch([{ ...ok, headers: [{ key: 1 as unknown as string, value: null }] }]),
      ],
      [
        'a header with a string value',
        () => encodeRecordBatch([{ ...ok, headers: [{ key: 'h', value: 'v' as unknown as null }] }]),
      ],
      ['a negative baseOffset', () => encodeRecordBatch([ok], { baseOffset: -1 })],
      ['a baseOffset of 2^53', () => encodeRecordBatch([ok], { baseOffset: 2 ** 53 })],
      ['a codec it cannot write', () => encodeRecordBatch([ok], { compression: 'brotli' as CompressionCodec })],
      ['a producerId of -2', () => encodeRecordBatch([ok], { producerId: -2 })],
      ['a producerEpoch beyond int16', () => encodeRecordBatch([ok], { producerEpoch: 32768 })],
      ['a baseSequence beyond int32', () => encodeRecordBatch([ok], { baseSequence: 2 ** 31 })],
      ['a leaderEpoch of -2', () => encodeRecordBatch([ok], { leaderEpoch: -2 })],
    ];
    for (const [what, call] of cases) {
      it(`refuses ${what} with InvalidRequestError`, () => {
        expect(call).to.throw(InvalidRequestError).with.property('code', 'INVALID_REQUEST');
      });
    }

    it('refuses a batch over MAX_BATCH_SIZE with RecordTooLargeError', () => {
      const value = new Uint8Array(33 * 1024 * 1024);
      const records = [
        { key: null, value, timestamp: 0 },
        { key: null, value, timestamp: 0 },
      ];
      expect(() => encodeRecordBatch(records))
        .to.throw(RecordTooLargeError)
        .with.property('code', 'RECORD_TOO_LARGE');
      expect(() => encodeRecordBatch(records, { compression: 'lz4' })).to.throw(RecordTooLargeError);
    });
  });

  describe('stampBatch', () => {
    it('writes baseOffset and leaderEpoch, changes exactly those 12 bytes, and keeps the CRC valid', () => {
      const before = golden();
      const bytes = golden();
      stampBatch(bytes, 12_345_678_901_234, 77);
      const changed = [...bytes.keys()].filter((i) => bytes[i] !== before[i]);
      expect(changed.every((i) => (i >= 0 && i < 8) || (i >= 12 && i < 16))).to.equal(true);
      expect(hex(bytes.subarray(0, 8))).to.equal('00000b3a73ce2ff2');
      expect(hex(bytes.subarray(12, 16))).to.equal('0000004d');
      expect(hex(bytes.subarray(16))).to.equal(hex(before.subarray(16)));
      expect(hex(bytes.subarray(8, 12))).to.equal(hex(before.subarray(8, 12)));
      expect(verifyBatchCrc(bytes)).to.equal(87);
      const batch = decodeRecordBatch(bytes);
      expect([batch.baseOffset, batch.leaderEpoch, batch.records[1]!.offset]).to.deep.equal([
        12_345_678_901_234, 77, 12_345_678_901_235,
      ]);
    });

    it('writes every one of the 12 bytes when all of them change', () => {
      const bytes = golden();
      stampBatch(bytes, 2 ** 52 + 0x1020304, -1);
      expect(hex(bytes.subarray(0, 8))).to.equal('0010000001020304');
      expect(hex(bytes.subarray(12, 16))).to.equal('ffffffff');
      expect(decodeRecordBatch(bytes).baseOffset).to.equal(2 ** 52 + 0x1020304);
    });

    it('stamps the batch at a position inside a larger buffer', () => {
      const buffer = Buffer.concat([Buffer.from(GOLDEN_HEX, 'hex'), Buffer.from(GOLDEN_HEX, 'hex')]);
      stampBatch(buffer, 500, 9, 87);
      const [first, second] = decodeRecordBatches(buffer);
      expect([first!.baseOffset, first!.leaderEpoch, second!.baseOffset, second!.leaderEpoch]).to.deep.equal([
        100, 3, 500, 9,
      ]);
    });

    it('refuses bad offsets and epochs with InvalidRequestError and a short buffer with CorruptMessageError', () => {
      for (const [offset, epoch] of [
        [-1, 0],
        [2 ** 53, 0],
        [1.5, 0],
        [0, -2],
        [0, 2 ** 31],
        [0, 0.5],
      ] as const) {
        expect(() => stampBatch(golden(), offset, epoch), `${offset} ${epoch}`).to.throw(InvalidRequestError);
      }
      expect(() => stampBatch(golden().subarray(0, 60), 0, 0)).to.throw(CorruptMessageError);
      expect(() => stampBatch(golden(), 0, 0, 27)).to.throw(CorruptMessageError);
    });
  });

  describe('stampProducerFields', () => {
    const records: RecordInput[] = [
      { key: utf8('k0'), value: utf8('v0'), timestamp: 1_700_000_000_000 },
      { key: null, value: utf8('v1'), headers: [{ key: 'h', value: utf8('x') }], timestamp: 1_700_000_000_005 },
    ];
    for (const compression of codecs) {
      it(`gives exactly the batch encoded with the new fields, changing only them and the CRC (${compression})`, () => {
        const before = encodeRecordBatch(records, { compression, producerId: 9, producerEpoch: 1, baseSequence: 17 });
        const bytes = Buffer.from(before);
        const fields = { producerId: 2 ** 40 + 5, producerEpoch: 2, baseSequence: 0 };
        stampProducerFields(bytes, fields);
        expect(hex(bytes)).to.equal(hex(encodeRecordBatch(records, { compression, ...fields })));
        const changed = [...bytes.keys()].filter((i) => bytes[i] !== before[i]);
        expect(changed.every((i) => (i >= 17 && i < 21) || (i >= 43 && i < 57))).to.equal(true);
        expect(decodeRecordBatch(bytes)).to.deep.include(fields);
      });
    }

    it('stamps the batch at a position inside a larger buffer', () => {
      const first = encodeRecordBatch(records, { producerId: 9, producerEpoch: 1, baseSequence: 17 });
      const buffer = Buffer.concat([first, first]);
      stampProducerFields(buffer, { producerId: 9, producerEpoch: 2, baseSequence: 0 }, first.length);
      const [a, b] = decodeRecordBatches(buffer);
      expect([a!.producerEpoch, a!.baseSequence, b!.producerEpoch, b!.baseSequence]).to.deep.equal([1, 17, 2, 0]);
    });

    it('refuses fields out of range (InvalidRequestError), a damaged batch (CorruptMessageError), no change', () => {
      const fields = { producerId: 9, producerEpoch: 2, baseSequence: 0 };
      for (const bad of [
        { producerId: -2 },
        { producerId: 2 ** 53 },
        { producerEpoch: 32768 },
        { baseSequence: -2 },
        { baseSequence: 2 ** 31 },
      ]) {
        const bytes = golden();
        expect(() => stampProducerFields(bytes, { ...fields, ...bad }), JSON.stringify(bad)).to.throw(
          InvalidRequestError,
        );
        expect(hex(bytes)).to.equal(GOLDEN_HEX);
      }
      const damaged = golden();
      damaged[80] = damaged[80]! ^ 1;
      const copy = hex(damaged);
      expect(() => stampProducerFields(damaged, fields)).to.throw(CorruptMessageError, /crc/);
      expect(hex(damaged)).to.equal(copy);
      expect(() => stampProducerFields(golden().subarray(0, 60), fields)).to.throw(CorruptMessageError);
    });
  });

  describe('verifyBatchCrc and validateBatch', () => {
    it('return the size and the frame of a good batch', () => {
      expect(verifyBatchCrc(golden())).to.equal(87);
      expect(validateBatch(golden())).to.deep.equal({
        position: 0,
        size: 87,
        baseOffset: 100,
        lastOffsetDelta: 1,
        nextOffset: 102,
        recordCount: 2,
        maxTimestamp: 1_700_000_000_005,
      });
    });

    it('name both CRCs when they differ', () => {
      const bytes = golden();
      bytes[86] = 0x00; // was 0x01
      const expected = (crc32c(bytes.subarray(21)) >>> 0).toString(16).padStart(8, '0');
      expect(() => verifyBatchCrc(bytes)).to.throw(
        CorruptMessageError,
        new RegExp(`crc 0x9f00eba5 but its bytes give 0x${expected}`),
      );
    });

    it('refuse the reserved codecs 5-7, and reserved attribute bits', () => {
      for (const [attributes, pattern] of [
        [5, /codec 5 \(reserved\)/],
        [7, /codec 7 \(reserved\)/],
        [0x10, /attributes 0x10/],
        [0x8000, /attributes 0x8000/],
      ] as const) {
        const bytes = golden();
        new DataView(bytes.buffer).setInt16(21, (attributes << 16) >> 16);
        refreshBatch(bytes);
        expect(() => validateBatch(bytes), String(attributes)).to.throw(CorruptMessageError, pattern);
        expect(() => decodeRecordBatch(bytes), String(attributes)).to.throw(CorruptMessageError, pattern);
      }
    });

    it('refuse a batch whose offsets run beyond Number.MAX_SAFE_INTEGER', () => {
      const bytes = golden();
      stampBatch(bytes, Number.MAX_SAFE_INTEGER - 1, 0);
      expect(() => validateBatch(bytes)).to.throw(UnsafeIntegerError);
      expect(() => decodeRecordBatch(bytes)).to.throw(UnsafeIntegerError);
    });
  });
});
