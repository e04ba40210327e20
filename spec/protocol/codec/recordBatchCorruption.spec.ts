/**
 * The decoder against damaged input: every single-byte flip, every truncation,
 * header/record inconsistencies behind a valid CRC, and fuzzing. The decoder
 * may only ever throw CorruptMessageError or UnsafeIntegerError.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { compress } from 'lz4-wasm-nodejs';
import { CorruptMessageError, UnsafeIntegerError } from '../../../src/protocol/errors.js';
import {
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  validateBatch,
  type CompressionCodec,
  type DecodedBatch,
  type RecordInput,
} from '../../../src/protocol/codec/recordBatch.js';
import { comparable, copyOf, refreshBatch } from '../fixtures/batchTools.js';
import { GOLDEN_HEX } from '../fixtures/goldenBatch.js';

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const golden = (): Uint8Array => new Uint8Array(Buffer.from(GOLDEN_HEX, 'hex'));

/** A batch with a bit of everything: null and empty fields, headers, unicode, timestamp jumps. */
function richRecords(): RecordInput[] {
  return Array.from({ length: 20 }, (_, i) => ({
    key: i % 5 === 0 ? null : utf8(`key-${i}`),
    value: i % 7 === 0 ? null : utf8(`value ${i} ${'é'.repeat(i)}`),
    timestamp: 1_700_000_000_000 + (i % 3 === 0 ? -i : i * 1000),
    headers:
      i % 4 === 0
        ? [
            { key: `h${i}`, value: i % 8 === 0 ? null : utf8('hv') },
            { key: 'ü', value: null },
          ]
        : [],
  }));
}

const isDecodeError = (error: unknown): boolean =>
  error instanceof CorruptMessageError || error instanceof UnsafeIntegerError;

type Outcome = { ok: true; batch: DecodedBatch } | { ok: false; error: unknown };

function attempt(bytes: Uint8Array, position = 0): Outcome {
  try {
    return { ok: true, batch: decodeRecordBatch(bytes, position) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Everything in a decoded batch except what depends on where it sits. */
function summary(batch: DecodedBatch): object {
  const { records, ...header } = batch;
  return { header, records: records.map((r) => comparable(r)) };
}

/**
 * Decodes `bytes` alone and embedded between random bytes; the outcome must be
 * the same (which proves no read outside the batch) and, when it fails, one of
 * the decoder's two error classes.
 */
function expectContainedOutcome(bytes: Uint8Array, before: Uint8Array, after: Uint8Array): Outcome {
  const alone = attempt(bytes);
  // bytes after an incomplete batch may legitimately complete it: only append
  // them when the batch declares exactly the bytes it has
  const complete = bytes.length >= 12 && Buffer.from(bytes).readInt32BE(8) + 12 === bytes.length;
  const embedded = attempt(Buffer.concat([before, bytes, complete ? after : new Uint8Array(0)]), before.length);
  if (alone.ok) {
    expect(embedded.ok).to.equal(true);
    expect(summary((embedded as { batch: DecodedBatch }).batch)).to.deep.equal(summary(alone.batch));
    expect(alone.batch.records.length).to.equal(alone.batch.recordCount);
    // Exactly its declared frame: usually all the bytes, but a mutation can also leave
    // an intact batch followed by one more byte (inserting b before a run of b's at its end).
    expect(alone.batch.size).to.equal(Buffer.from(bytes).readInt32BE(8) + 12);
    expect(alone.batch.size).to.be.at.most(bytes.length);
  } else {
    expect(alone.error, String(alone.error)).to.satisfy(isDecodeError);
    expect(embedded.ok).to.equal(false);
    const other = (embedded as { error: unknown }).error;
    expect((other as Error).constructor).to.equal((alone.error as Error).constructor);
  }
  return alone;
}

describe('protocol/recordBatch corruption', () => {
  const subjects: Array<[string, () => Uint8Array]> = [
    ['the golden batch', golden],
    ['a 20-record batch', () => copyOf(encodeRecordBatch(richRecords(), { baseOffset: 1000, leaderEpoch: 5 }))],
    ['a 20-record lz4 batch', () => copyOf(encodeRecordBatch(richRecords(), { baseOffset: 1000, compression: 'lz4' }))],
  ];

  for (const [name, make] of subjects) {
    describe(name, () => {
      it('catches every single-byte flip outside baseOffset and leaderEpoch with CorruptMessageError', () => {
        const original = make();
        const reference = decodeRecordBatch(original);
        for (let position = 0; position < original.length; position++) {
          for (const mask of [0x01, 0x80, 0xff]) {
            const bytes = copyOf(original);
            bytes[position] = original[position]! ^ mask;
            const label = `byte ${position} ^ 0x${mask.toString(16)}`;
            if (position < 8) {
              // baseOffset precedes the CRC and is not covered by it (the agent stamps it
              // without recomputing the CRC): a flip decodes with that other offset, or is
              // refused as an unsafe integer when it leaves the safe range.
              const flipped = Buffer.from(bytes).readBigInt64BE(0);
              const safe =
                flipped >= 0n && flipped + BigInt(reference.lastOffsetDelta) + 1n <= BigInt(Number.MAX_SAFE_INTEGER);
              if (!safe) {
                expect(() => decodeRecordBatch(bytes), label).to.throw(UnsafeIntegerError);
                continue;
              }
              const batch = decodeRecordBatch(bytes);
              const shift = Number(flipped) - reference.baseOffset;
              expect(batch.baseOffset, label).to.equal(Number(flipped));
              expect(
                batch.records.map((r) => r.offset),
                label,
              ).to.deep.equal(reference.records.map((r) => r.offset + shift));
              expect({ ...batch, baseOffset: 0, nextOffset: 0, records: [] }).to.deep.equal({
                ...reference,
                baseOffset: 0,
                nextOffset: 0,
                records: [],
              });
            } else if (position >= 12 && position < 16) {
              // leaderEpoch: also stamped by the agent, also outside the CRC
              const batch = decodeRecordBatch(bytes);
              expect(batch.leaderEpoch, label).to.equal(Buffer.from(bytes).readInt32BE(12));
              expect(batch.leaderEpoch, label).to.not.equal(reference.leaderEpoch);
              expect(summary({ ...batch, leaderEpoch: 0 })).to.deep.equal(summary({ ...reference, leaderEpoch: 0 }));
            } else {
              // batchLength (moves the end: truncated, or a CRC over other bytes),
              // magic (checked), crc and everything it covers
              expect(() => decodeRecordBatch(bytes), label).to.throw(CorruptMessageError);
              expect(() => validateBatch(bytes), label).to.throw(CorruptMessageError);
            }
          }
        }
      });

      it('refuses every truncation with CorruptMessageError', () => {
        const bytes = make();
        for (let length = 0; length < bytes.length; length++) {
          expect(() => decodeRecordBatch(bytes.subarray(0, length)), `length ${length}`).to.throw(CorruptMessageError);
        }
      });
    });
  }

  it('refuses a concatenation cut anywhere inside its second batch', () => {
    const first = encodeRecordBatch(richRecords());
    const second = encodeRecordBatch(richRecords(), { compression: 'lz4' });
    const both = Buffer.concat([first, second]);
    expect(decodeRecordBatches(both)).to.have.length(2);
    for (let cut = 1; cut < second.length; cut++) {
      expect(() => decodeRecordBatches(both.subarray(0, first.length + cut)), `cut ${cut}`).to.throw(
        CorruptMessageError,
      );
    }
  });

  describe('inconsistencies behind a valid CRC', () => {
    // byte positions in the golden batch (see fixtures/goldenBatch.ts)
    const cases: Array<[string, (bytes: Uint8Array) => Uint8Array, RegExp]> = [
      ['fewer records in the header than present', (b) => set32(b, 57, 1), /bytes after its 1 records/],
      [
        'more records in the header than present',
        (b) => set32(set32(b, 23, 2), 57, 3),
        /record 2 of batch at byte 0 is missing/,
      ],
      [
        'a lastOffsetDelta the records do not reach',
        (b) => set32(b, 23, 2),
        /lastOffsetDelta 2 but its last record has delta 1/,
      ],
      [
        'a maxTimestamp the records do not reach',
        (b) => setByte(b, 42, 0x06),
        /maxTimestamp 1700000000006 but its records reach 1700000000005/,
      ],
      ['offset deltas that do not increase', (b) => setByte(b, 75, 0x00), /offset delta 0 after 0/],
      ['a key length below -1', (b) => setByte(b, 76, 0x03), /key length -2/],
      ['a value length past the record', (b) => setByte(b, 77, 0x1e), /value length 15 with 9 bytes left/],
      ['a record length past the batch', (b) => setByte(b, 72, 0x1e), /length 15 with 14 bytes left/],
      ['a record length shorter than its fields', (b) => setByte(b, 61, 0x12), /varint at byte 71 is truncated/],
      [
        'a record length longer than its fields',
        (b) => setByte(splice(b, 72, 0, [0x00]), 61, 0x16),
        /record 0 of batch at byte 0 ends at byte 72, its length says 73/,
      ],
      ['a negative header count', (b) => setByte(b, 83, 0x7f), /declares -64 headers/],
      ['more headers than bytes', (b) => setByte(b, 83, 0x10), /declares 8 headers in 3 bytes/],
      ['a header key that is not UTF-8', (b) => setByte(b, 85, 0xff), /not valid UTF-8/],
      [
        'a varint longer than 32 bits',
        (b) => splice(b, 76, 1, [0xff, 0xff, 0xff, 0xff, 0x7f]),
        /does not fit in 32 bits/,
      ],
      ['a byte after the last record', (b) => splice(b, b.length, 0, [0x00]), /1 bytes after its 2 records/],
      ['no records section at all', (b) => b.subarray(0, 61), /declares 2 records but has only 0 bytes/],
    ];
    for (const [what, damage, pattern] of cases) {
      it(`refuses ${what}`, () => {
        const bytes = refreshBatch(damage(golden()));
        expect(() => decodeRecordBatch(bytes)).to.throw(CorruptMessageError, pattern);
      });
    }

    it('refuses int64 fields beyond Number.MAX_SAFE_INTEGER with UnsafeIntegerError', () => {
      for (const position of [0, 27, 35, 43]) {
        const bytes = golden();
        bytes[position] = 0x01; // 2^56 + …
        refreshBatch(bytes);
        expect(() => decodeRecordBatch(bytes), `int64 at ${position}`).to.throw(UnsafeIntegerError);
      }
    });

    it('refuses a legacy lz4 section that declares more than it can hold, before decompressing', () => {
      const plain = encodeRecordBatch(richRecords());
      const section = compress(plain.subarray(61));
      const lz4 = new Uint8Array(61 + section.length);
      lz4.set(plain.subarray(0, 61));
      lz4.set(section, 61);
      lz4[22] = 3;
      refreshBatch(lz4);
      for (const declared of [0xffffffff, 64 * 1024 * 1024 + 1, (lz4.length - 65) * 255 + 1]) {
        const bytes = copyOf(lz4);
        new DataView(bytes.buffer).setUint32(61, declared, true);
        refreshBatch(bytes);
        expect(() => decodeRecordBatch(bytes), String(declared)).to.throw(CorruptMessageError, /declares/);
      }
      const wrongSize = copyOf(lz4);
      new DataView(wrongSize.buffer).setUint32(61, plain.length - 61 + 1, true);
      expect(() => decodeRecordBatch(refreshBatch(wrongSize))).to.throw(CorruptMessageError, /does not decompress/);
      const tooShort = refreshBatch(copyOf(lz4.subarray(0, 63)));
      expect(() => decodeRecordBatch(tooShort)).to.throw(CorruptMessageError, /shorter than its size prefix/);
    });
  });

  describe('fuzzing (properties)', () => {
    const bytesAround = fc.uint8Array({ maxLength: 16 });

    it('random bytes only ever give decode errors', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), bytesAround, bytesAround, (bytes, before, after) => {
          const outcome = expectContainedOutcome(bytes, before, after);
          expect(outcome.ok).to.equal(false);
        }),
        { numRuns: 3000 },
      );
    });

    it('random bytes behind a well-formed frame and a valid CRC only ever give decode errors', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 61, maxLength: 400 }),
          fc.constantFrom(0, 3),
          bytesAround,
          bytesAround,
          (generated, codec, before, after) => {
            const bytes = copyOf(generated);
            bytes[16] = 2;
            bytes[21] = 0;
            bytes[22] = codec;
            expectContainedOutcome(refreshBatch(bytes), before, after);
          },
        ),
        { numRuns: 3000 },
      );
    });

    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 60 }), { nil: null }),
      timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
      headers: fc.array(
        fc.record({
          key: fc.string({ maxLength: 6 }),
          value: fc.option(fc.uint8Array({ maxLength: 6 }), { nil: null }),
        }),
        {
          maxLength: 2,
        },
      ),
    });
    const mutation = fc.record({
      kind: fc.constantFrom('set', 'insert', 'delete'),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    });

    function mutate(
      bytes: Uint8Array,
      mutations: Array<{ kind: string; at: number; byte: number }>,
      from: number,
    ): Uint8Array {
      let out = copyOf(bytes);
      for (const { kind, at, byte } of mutations) {
        const span = out.length - from;
        if (span <= 0) break;
        const position = from + (at % span);
        if (kind === 'set') out[position] = byte;
        else if (kind === 'insert') out = splice(out, position, 0, [byte]);
        else out = splice(out, position, 1, []);
      }
      return out;
    }

    it('mutated valid batches (CRC recomputed) decode or fail with decode errors only', () => {
      fc.assert(
        fc.property(
          fc.array(record, { minLength: 1, maxLength: 8 }),
          fc.constantFrom<CompressionCodec>('none', 'lz4'),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          bytesAround,
          bytesAround,
          (records, compression, mutations, fixCrc, before, after) => {
            const valid = encodeRecordBatch(records, { compression, baseOffset: 10 });
            // mutate the header fields after the stamped ones, or the records
            let damaged = mutate(valid, mutations, 21);
            if (fixCrc) damaged = refreshBatch(damaged);
            const outcome = expectContainedOutcome(damaged, before, after);
            if (!fixCrc && !outcome.ok) expect(outcome.error).to.be.instanceOf(CorruptMessageError);
          },
        ),
        { numRuns: 2000 },
      );
    });

    it('mutated records sections, lz4-compressed behind a valid CRC, decode or fail with decode errors only', () => {
      fc.assert(
        fc.property(
          fc.array(record, { minLength: 1, maxLength: 8 }),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          bytesAround,
          (records, mutations, before) => {
            const plain = mutate(encodeRecordBatch(records), mutations, 61);
            const section = compress(plain.subarray(61));
            const bytes = new Uint8Array(61 + section.length);
            bytes.set(plain.subarray(0, 61));
            bytes.set(section, 61);
            bytes[22] = 3;
            expectContainedOutcome(refreshBatch(bytes), before, new Uint8Array(0));
          },
        ),
        { numRuns: 1500 },
      );
    });
  });
});

function set32(bytes: Uint8Array, position: number, value: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(position, value);
  return bytes;
}

function setByte(bytes: Uint8Array, position: number, value: number): Uint8Array {
  bytes[position] = value;
  return bytes;
}

function splice(bytes: Uint8Array, position: number, remove: number, insert: number[]): Uint8Array {
  return new Uint8Array([...bytes.subarray(0, position), ...insert, ...bytes.subarray(position + remove)]);
}
