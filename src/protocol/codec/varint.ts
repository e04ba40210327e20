/**
 * Zigzag varints as Kafka writes them inside a RecordBatch.
 *
 * A signed value is first zigzag-mapped to an unsigned one (0 → 0, -1 → 1,
 * 1 → 2, -2 → 3, …) so small magnitudes of either sign stay small, then
 * written 7 bits at a time, least significant group first, with the high bit
 * of each byte set while more bytes follow.
 *
 * - varint: a signed 32-bit value, at most 5 bytes (lengths, counts, offset deltas).
 * - varlong: a signed 64-bit value, at most 10 bytes on the wire; here limited to
 *   safe integers (at most 8 bytes), used for timestamp deltas.
 *
 * Writers return the position after the written bytes; readers advance a
 * {@link ByteCursor}. Readers never read past `cursor.end` and throw
 * CorruptMessageError for a truncated or over-long varint, UnsafeIntegerError
 * for a varlong beyond Number.MAX_SAFE_INTEGER.
 */
import { CorruptMessageError, UnsafeIntegerError } from '../errors.js';

const TWO_POW_7 = 0x80;
const TWO_POW_27 = 0x8000000;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** A read position over `bytes`, advanced by the read functions; reads stop at `end`. */
export class ByteCursor {
  private readonly arrayBuffer: ArrayBufferLike;
  private readonly byteOffset: number;

  /**
   * @param bytes the buffer read from
   * @param pos position of the next byte to read
   * @param end position one past the last readable byte
   */
  constructor(
    public readonly bytes: Uint8Array,
    public pos: number,
    public end: number,
  ) {
    this.arrayBuffer = bytes.buffer;
    this.byteOffset = bytes.byteOffset;
  }

  /**
   * A Uint8Array view of `bytes[start, start + length)`, no copy. The caller has
   * checked the range. (The constructor is about twice as fast as `subarray`,
   * which goes through the species protocol, more so on a Buffer.)
   */
  view(start: number, length: number): Uint8Array {
    return new Uint8Array(this.arrayBuffer, this.byteOffset + start, length);
  }
}

/** Zigzag-maps a signed 32-bit integer to its unsigned form (as a non-negative number). */
export function zigzagEncode32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** Inverse of {@link zigzagEncode32}: unsigned 32-bit form back to a signed integer. */
export function zigzagDecode32(encoded: number): number {
  return (encoded >>> 1) ^ -(encoded & 1);
}

// The writers and sizes below sit in the encoders' per-record paths. Each is
// kept to a few bytecodes, with the rare beyond-32-bit cases in functions of
// their own, so the compiler can inline all of them into one record's write.

/** Bytes {@link writeVarint} uses for a signed 32-bit `value`. */
export function sizeOfVarint(value: number): number {
  // 7 payload bits a byte: ceil(significant bits / 7), at least 1; (n * 37) >> 8 is n / 7 for n < 32
  return (((31 - Math.clz32(((value << 1) ^ (value >> 31)) | 1)) * 37) >> 8) + 1;
}

/** Bytes {@link writeVarlong} uses for a safe-integer `value`. */
export function sizeOfVarlong(value: number): number {
  return value >= INT32_MIN && value <= INT32_MAX ? sizeOfVarint(value) : sizeOfLongVarlong(value);
}

/** {@link sizeOfVarlong} beyond the int32 range. */
function sizeOfLongVarlong(value: number): number {
  // zigzag(value) = 2 * magnitude + sign, with magnitude = value or -value - 1
  let rest = value >= 0 ? value : -value - 1;
  // the first byte holds 6 magnitude bits (plus the sign bit), later ones 7
  rest = Math.floor(rest / 64);
  let size = 1;
  while (rest > 0) {
    rest = Math.floor(rest / TWO_POW_7);
    size++;
  }
  return size;
}

/**
 * Writes a signed 32-bit `value` at `pos` and returns the position after it.
 * The caller guarantees room for {@link sizeOfVarint}(value) bytes.
 */
export function writeVarint(bytes: Uint8Array, pos: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  while (u >= 0x80) {
    bytes[pos++] = u | 0x80; // the store keeps the low 8 bits
    u >>>= 7;
  }
  bytes[pos] = u;
  return pos + 1;
}

/**
 * Writes a safe-integer `value` as a zigzag varlong at `pos` and returns the
 * position after it. The caller guarantees room for {@link sizeOfVarlong}(value) bytes.
 */
export function writeVarlong(bytes: Uint8Array, pos: number, value: number): number {
  return value >= INT32_MIN && value <= INT32_MAX
    ? writeVarint(bytes, pos, value)
    : writeLongVarlong(bytes, pos, value);
}

/** {@link writeVarlong} beyond the int32 range. */
function writeLongVarlong(bytes: Uint8Array, pos: number, value: number): number {
  // Beyond 32 bits bitwise operators truncate, so split with arithmetic, keeping
  // every intermediate below 2^53 (zigzag itself may reach 2^54).
  const sign = value >= 0 ? 0 : 1;
  let rest = value >= 0 ? value : -value - 1;
  let group = (rest % 64) * 2 + sign;
  rest = Math.floor(rest / 64);
  while (rest > 0) {
    bytes[pos++] = group | 0x80;
    group = rest % TWO_POW_7;
    rest = Math.floor(rest / TWO_POW_7);
  }
  bytes[pos++] = group;
  return pos;
}

/**
 * Reads a signed 32-bit zigzag varint at the cursor and advances it.
 *
 * Kept small so the compiler inlines it into the record walk: one- and
 * two-byte varints (values from -8192 to 8191: lengths of keys and values up
 * to 8 KiB, offset deltas, header counts) are read here, anything else (and
 * every error) by {@link readVarintSlow}.
 */
export function readVarint(cursor: ByteCursor): number {
  const value = readShortZigzag(cursor);
  return value === value ? value : readVarintSlow(cursor);
}

/**
 * The fast path of readVarint and readVarlong: a one- or two-byte zigzag
 * varint at the cursor, which it advances; NaN (cursor untouched) for a
 * longer one or one cut short, which the slow readers then handle.
 */
function readShortZigzag(cursor: ByteCursor): number {
  const bytes = cursor.bytes;
  const pos = cursor.pos;
  const end = cursor.end;
  // (a one-byte varint may be the last byte before end: a record's header count is)
  if (pos < end) {
    const b0 = bytes[pos]!;
    if (b0 < 0x80) {
      cursor.pos = pos + 1;
      return (b0 >>> 1) ^ -(b0 & 1);
    }
    if (pos + 1 < end) {
      const b1 = bytes[pos + 1]!;
      if (b1 < 0x80) {
        cursor.pos = pos + 2;
        const u = (b0 & 0x7f) | (b1 << 7);
        return (u >>> 1) ^ -(u & 1);
      }
    }
  }
  return Number.NaN;
}

/** {@link readVarint} for any length, with the checks: truncated, or beyond 32 bits. */
function readVarintSlow(cursor: ByteCursor): number {
  const bytes = cursor.bytes;
  let pos = cursor.pos;
  const end = cursor.end;
  let u = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw new CorruptMessageError(`varint at byte ${cursor.pos} is truncated`);
    const b = bytes[pos++]!;
    if (shift === 28 && b > 0x0f) {
      throw new CorruptMessageError(`varint at byte ${cursor.pos} does not fit in 32 bits`);
    }
    u |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.pos = pos;
      return (u >>> 1) ^ -(u & 1);
    }
  }
  // unreachable: the 5th byte either ends the varint or failed the check above
  throw new CorruptMessageError(`varint at byte ${cursor.pos} is longer than 5 bytes`);
}

/**
 * Reads a zigzag varlong at the cursor and advances it. Throws
 * UnsafeIntegerError when the value is beyond the safe-integer range,
 * CorruptMessageError when it is truncated or longer than 10 bytes.
 *
 * One- and two-byte varlongs (timestamp deltas within ±8 s, the common case)
 * are read here, small enough to be inlined; the rest by {@link readVarlongSlow}.
 */
export function readVarlong(cursor: ByteCursor): number {
  const value = readShortZigzag(cursor);
  return value === value ? value : readVarlongSlow(cursor);
}

/** {@link readVarlong} for any length, with the checks. */
function readVarlongSlow(cursor: ByteCursor): number {
  const bytes = cursor.bytes;
  let pos = cursor.pos;
  const end = cursor.end;
  // low 28 bits in `low`, the rest in `high` (exact as long as it stays below 2^25)
  let low = 0;
  let high = 0;
  let highScale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new CorruptMessageError(`varlong at byte ${cursor.pos} is truncated`);
    const b = bytes[pos++]!;
    const group = b & 0x7f;
    if (i < 4) {
      low |= group << (7 * i);
    } else if (group !== 0) {
      if (i > 7 || (i === 7 && group > 0x1f)) {
        // high >= 2^26, so the zigzag value >= 2^54 > 2 * MAX_SAFE_INTEGER + 1
        throw new UnsafeIntegerError(`varlong at byte ${cursor.pos} is beyond Number.MAX_SAFE_INTEGER`);
      }
      high += group * highScale;
    }
    if (i >= 4) highScale *= TWO_POW_7;
    if (b < 0x80) {
      cursor.pos = pos;
      // zigzag value = high * 2^28 + low; magnitude = value >> 1, sign = value & 1
      const magnitude = high * TWO_POW_27 + (low >>> 1);
      const sign = low & 1;
      if (magnitude > Number.MAX_SAFE_INTEGER || (sign === 1 && magnitude >= Number.MAX_SAFE_INTEGER)) {
        throw new UnsafeIntegerError(`varlong at byte ${cursor.pos} is beyond Number.MAX_SAFE_INTEGER`);
      }
      return sign === 0 ? magnitude : -magnitude - 1;
    }
  }
  throw new CorruptMessageError(`varlong at byte ${cursor.pos} is longer than 10 bytes`);
}
