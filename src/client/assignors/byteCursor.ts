/**
 * Big-endian writer and reader for the small group-protocol messages
 * (member metadata, assignments). Not on a hot path: clarity over speed.
 *
 * @internal
 */
import { CorruptMessageError, InvalidRequestError } from '../../protocol/errors.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Largest string length an int16 prefix can carry. */
export const MAX_STRING_BYTES = 0x7fff;

/** Appends fields to a growing buffer. @internal */
export class ByteWriter {
  private buffer = new Uint8Array(64);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  int16(value: number): this {
    this.reserve(2).setInt16(this.length - 2, value);
    return this;
  }

  int32(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new InvalidRequestError(`${value} does not fit in an int32`);
    }
    this.reserve(4).setInt32(this.length - 4, value);
    return this;
  }

  /** int16 byte length, then UTF-8 bytes. */
  string(value: string): this {
    const bytes = utf8Encoder.encode(value);
    if (bytes.length > MAX_STRING_BYTES) {
      throw new InvalidRequestError(`string of ${bytes.length} bytes exceeds ${MAX_STRING_BYTES}`);
    }
    this.int16(bytes.length);
    return this.raw(bytes);
  }

  /** int32 byte length (-1 when absent), then the bytes. */
  nullableBytes(value: Uint8Array | undefined): this {
    if (value === undefined) return this.int32(-1);
    this.int32(value.length);
    return this.raw(value);
  }

  /** int32 count, then each item written by `write`. */
  array<T>(items: readonly T[], write: (item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(item);
    return this;
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length - bytes.length);
    return this;
  }

  /** Grows the buffer so `size` more bytes fit, and advances the length. */
  private reserve(size: number): DataView {
    const needed = this.length + size;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = needed;
    return this.view;
  }
}

/** Reads fields in order; every read checks bounds and throws CorruptMessageError. @internal */
export class ByteReader {
  private readonly view: DataView;
  private position = 0;

  /** @param what names the message in error texts, e.g. `'member metadata'`. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.length - this.position;
  }

  int16(): number {
    this.need(2, 'int16');
    const value = this.view.getInt16(this.position);
    this.position += 2;
    return value;
  }

  int32(): number {
    this.need(4, 'int32');
    const value = this.view.getInt32(this.position);
    this.position += 4;
    return value;
  }

  string(): string {
    const length = this.int16();
    if (length < 0) this.fail(`negative string length ${length}`);
    this.need(length, 'string');
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    try {
      return utf8Decoder.decode(slice);
    } catch (cause) {
      return this.fail('string is not valid UTF-8', cause);
    }
  }

  nullableBytes(): Uint8Array | undefined {
    const length = this.int32();
    if (length === -1) return undefined;
    if (length < 0) this.fail(`negative bytes length ${length}`);
    this.need(length, 'bytes');
    const copy = this.bytes.slice(this.position, this.position + length);
    this.position += length;
    return copy;
  }

  /**
   * int32 count, then `count` items. `minItemSize` bounds the count by the
   * bytes left, so a corrupt count cannot make us allocate a huge array.
   */
  array<T>(minItemSize: number, read: () => T): T[] {
    const count = this.int32();
    if (count < 0) this.fail(`negative array length ${count}`);
    if (count * minItemSize > this.remaining) {
      this.fail(`array of ${count} items cannot fit in ${this.remaining} bytes`);
    }
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read());
    return items;
  }

  /** Throws a CorruptMessageError naming the message and position. */
  fail(reason: string, cause?: unknown): never {
    const message = `corrupt ${this.what} at byte ${this.position}: ${reason}`;
    throw new CorruptMessageError(message, cause === undefined ? undefined : { cause });
  }

  private need(size: number, field: string): void {
    if (this.remaining < size) this.fail(`truncated ${field}: needs ${size} bytes, ${this.remaining} left`);
  }
}
