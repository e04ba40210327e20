/** A growable output buffer that refuses to grow past a fixed limit. */
import { CorruptMessageError } from '../../errors.js';

/** Bytes written so far into a buffer that never exceeds `limit` bytes. */
export class BoundedOutput {
  bytes: Uint8Array;
  length = 0;

  constructor(
    readonly limit: number,
    readonly codec: string,
    sizeHint: number,
  ) {
    this.bytes = new Uint8Array(Math.max(0, Math.min(limit, sizeHint)));
  }

  /** Makes room for `more` bytes; CorruptMessageError when that passes the limit. */
  reserve(more: number): void {
    const needed = this.length + more;
    if (needed <= this.bytes.length) return;
    if (needed > this.limit) {
      throw new CorruptMessageError(`${this.codec} payload decompresses past ${this.limit} bytes`);
    }
    const grown = new Uint8Array(Math.min(this.limit, Math.max(needed, this.bytes.length * 2)));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Appends `source[start, end)`. */
  append(source: Uint8Array, start: number, end: number): void {
    this.reserve(end - start);
    this.bytes.set(source.subarray(start, end), this.length);
    this.length += end - start;
  }

  /** Appends `length` bytes copied from `distance` bytes back (the copy may overlap itself). */
  copyBack(distance: number, length: number, floor: number): void {
    if (distance <= 0 || distance > this.length - floor) {
      throw new CorruptMessageError(`${this.codec} payload refers ${distance} bytes back, before its start`);
    }
    this.reserve(length);
    const out = this.bytes;
    let to = this.length;
    let from = to - distance;
    if (distance >= length) {
      out.copyWithin(to, from, from + length);
    } else {
      const end = to + length;
      while (to < end) out[to++] = out[from++]!;
    }
    this.length += length;
  }

  /** The bytes written. */
  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}
