import { expect } from 'chai';
import fc from 'fast-check';
import { CorruptMessageError, UnsafeIntegerError } from '../../../src/protocol/errors.js';
import {
  ByteCursor,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
  zigzagDecode32,
  zigzagEncode32,
} from '../../../src/protocol/codec/varint.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

function encodeVarint(value: number): string {
  const out = new Uint8Array(10);
  const end = writeVarint(out, 0, value);
  return hex(out.subarray(0, end));
}

function encodeVarlong(value: number): string {
  const out = new Uint8Array(10);
  const end = writeVarlong(out, 0, value);
  return hex(out.subarray(0, end));
}

/** Independent reference: zigzag over BigInt, then 7-bit groups. */
function referenceVarlong(value: number): string {
  let u = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out).toString('hex');
}

function read(reader: (cursor: ByteCursor) => number, text: string): { value: number; pos: number } {
  const cursor = new ByteCursor(fromHex(text), 0, text.length / 2);
  const value = reader(cursor);
  return { value, pos: cursor.pos };
}

// [value, exact zigzag varint bytes]
const INT32_CASES: Array<[number, string]> = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [63, '7e'],
  [64, '8001'],
  [-64, '7f'],
  [-65, '8101'],
  [300, 'd804'],
  [2147483647, 'feffffff0f'],
  [-2147483648, 'ffffffff0f'],
];

// [value, exact zigzag varlong bytes] beyond what 32 bits hold
const INT64_CASES: Array<[number, string]> = [
  [2147483648, '8080808010'],
  [-2147483649, '8180808010'],
  [1_700_000_000_000, '80a0abfef962'],
  [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
  [Number.MIN_SAFE_INTEGER, 'fdffffffffffff1f'],
];

describe('protocol/varint', () => {
  describe('zigzag', () => {
    it('maps signed to unsigned as Kafka does', () => {
      expect([0, -1, 1, -2, 2, 2147483647, -2147483648].map(zigzagEncode32)).to.deep.equal([
        0, 1, 2, 3, 4, 4294967294, 4294967295,
      ]);
      expect([0, 1, 2, 3, 4, 4294967294, 4294967295].map(zigzagDecode32)).to.deep.equal([
        0, -1, 1, -2, 2, 2147483647, -2147483648,
      ]);
    });
  });

  describe('varint (32-bit)', () => {
    for (const [value, bytes] of INT32_CASES) {
      it(`writes ${value} as ${bytes} and reads it back`, () => {
        expect(encodeVarint(value)).to.equal(bytes);
        expect(sizeOfVarint(value)).to.equal(bytes.length / 2);
        expect(read(readVarint, bytes)).to.deep.equal({ value, pos: bytes.length / 2 });
      });
    }

    it('writes at an offset and returns the position after the varint', () => {
      const out = new Uint8Array([9, 9, 9, 9, 9]);
      expect(writeVarint(out, 1, 64)).to.equal(3);
      expect(hex(out)).to.equal('0980010909');
    });

    it('reads a varint in the middle of a buffer', () => {
      const cursor = new ByteCursor(fromHex('ff8001ff'), 1, 3);
      expect(readVarint(cursor)).to.equal(64);
      expect(cursor.pos).to.equal(3);
    });

    it('accepts an over-long encoding of a small value, as Kafka does', () => {
      expect(read(readVarint, '8000')).to.deep.equal({ value: 0, pos: 2 });
    });

    it('rejects a truncated varint without reading past the end', () => {
      for (const text of ['', '80', 'ffff', 'ffffffff']) {
        expect(() => read(readVarint, text), text).to.throw(CorruptMessageError, /truncated/);
      }
      // the byte after `end` would complete it, but is not readable
      const cursor = new ByteCursor(fromHex('8001'), 0, 1);
      expect(() => readVarint(cursor)).to.throw(CorruptMessageError, /truncated/);
    });

    it('rejects a fifth byte that carries more than 32 bits or continues', () => {
      expect(() => read(readVarint, 'ffffffff10')).to.throw(CorruptMessageError, /32 bits/);
      expect(() => read(readVarint, 'ffffffff8f01')).to.throw(CorruptMessageError, /32 bits/);
    });

    it('round-trips every int32 (property)', () => {
      fc.assert(
        fc.property(fc.integer({ min: -2147483648, max: 2147483647 }), (value) => {
          const out = new Uint8Array(5);
          const end = writeVarint(out, 0, value);
          expect(end).to.equal(sizeOfVarint(value));
          expect(hex(out.subarray(0, end))).to.equal(referenceVarlong(value));
          const cursor = new ByteCursor(out, 0, end);
          expect(readVarint(cursor)).to.equal(value);
          expect(cursor.pos).to.equal(end);
        }),
        { numRuns: 2000 },
      );
    });
  });

  // readVarint and readVarlong read one- and two-byte values inline and hand longer ones (and
  // every error) to a general reader: values on both sides of each boundary, and `end` right
  // after, inside or before the value, through both readers.
  describe('short-value paths of readVarint and readVarlong', () => {
    // [value, bytes]: the last one- and first two-byte values, the last two- and first three-byte values
    const BOUNDARY_CASES: Array<[number, string]> = [
      [-64, '7f'],
      [63, '7e'],
      [64, '8001'],
      [-65, '8101'],
      [8191, 'fe7f'],
      [-8192, 'ff7f'],
      [8192, '808001'],
      [-8193, '818001'],
    ];
    for (const [name, reader] of [
      ['readVarint', readVarint],
      ['readVarlong', readVarlong],
    ] as const) {
      it(`${name} reads values at the length boundaries, each ending exactly at end`, () => {
        for (const [value, bytes] of BOUNDARY_CASES) {
          expect(read(reader, bytes), bytes).to.deep.equal({ value, pos: bytes.length / 2 });
          // and in the middle of a buffer, with readable bytes after it
          const cursor = new ByteCursor(fromHex(`aa${bytes}0000`), 1, bytes.length / 2 + 3);
          expect(reader(cursor), bytes).to.equal(value);
          expect(cursor.pos, bytes).to.equal(1 + bytes.length / 2);
        }
      });

      it(`${name} reports a value cut by end at the byte where it starts, without moving`, () => {
        const kind = name === 'readVarint' ? 'varint' : 'varlong';
        for (const [bytes, end] of [
          ['fe7f', 1],
          ['808001', 2],
          ['808001', 1],
        ] as const) {
          const cursor = new ByteCursor(fromHex(`00${bytes}`), 1, 1 + end);
          expect(() => reader(cursor), bytes).to.throw(CorruptMessageError, `${kind} at byte 1 is truncated`);
          expect(cursor.pos).to.equal(1);
        }
      });
    }
  });

  describe('varlong (safe integers)', () => {
    for (const [value, bytes] of [...INT32_CASES, ...INT64_CASES]) {
      it(`writes ${value} as ${bytes} and reads it back`, () => {
        expect(encodeVarlong(value)).to.equal(bytes);
        expect(sizeOfVarlong(value)).to.equal(bytes.length / 2);
        expect(read(readVarlong, bytes)).to.deep.equal({ value, pos: bytes.length / 2 });
      });
    }

    it('rejects values beyond the safe range with UnsafeIntegerError', () => {
      // 2^53, -2^53, int64 max and min (zigzag bytes from the BigInt reference)
      for (const text of ['8080808080808020', 'ffffffffffffff1f', 'feffffffffffffffff01', 'ffffffffffffffffff01']) {
        expect(() => read(readVarlong, text), text).to.throw(UnsafeIntegerError);
      }
    });

    it('rejects a truncated or over-long varlong with CorruptMessageError', () => {
      expect(() => read(readVarlong, '')).to.throw(CorruptMessageError, /truncated/);
      expect(() => read(readVarlong, '80808080808080')).to.throw(CorruptMessageError, /truncated/);
      expect(() => read(readVarlong, '80808080808080808080')).to.throw(CorruptMessageError, /longer than 10 bytes/);
    });

    it('accepts an over-long encoding padded with zero groups', () => {
      expect(read(readVarlong, '82808080808080808000')).to.deep.equal({ value: 1, pos: 10 });
    });

    it('matches a BigInt reference for every safe integer (property)', () => {
      fc.assert(
        fc.property(fc.maxSafeInteger(), (value) => {
          const expected = referenceVarlong(value);
          expect(encodeVarlong(value)).to.equal(expected);
          expect(sizeOfVarlong(value)).to.equal(expected.length / 2);
          expect(read(readVarlong, expected)).to.deep.equal({ value, pos: expected.length / 2 });
        }),
        { numRuns: 3000 },
      );
    });

    it('never throws anything but its own errors on random bytes (property)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
          for (const reader of [readVarint, readVarlong]) {
            const cursor = new ByteCursor(bytes, 0, bytes.length);
            try {
              reader(cursor);
              expect(cursor.pos).to.be.within(1, bytes.length);
            } catch (error) {
              expect(error).to.satisfy(
                (e: unknown) => e instanceof CorruptMessageError || e instanceof UnsafeIntegerError,
              );
            }
          }
        }),
        { numRuns: 3000 },
      );
    });
  });
});
