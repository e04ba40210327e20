/**
 * Writes Kafka's primitive wire types into a list of chunks: small values go
 * into a growing scratch buffer, large byte strings (record batches) are
 * appended as they are, without a copy.
 */
const ZERO_COPY_BYTES = 4096;

export class KafkaWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly chunks: Buffer[] = [];
  private flushed = 0;
  private capacity: number;

  constructor(initialBytes = 256) {
    this.capacity = initialBytes;
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushed + this.pos;
  }

  /** Reserves n bytes and returns where they start; may replace `this.buf`, so call it before reading `this.buf`. */
  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      this.flushScratch();
      this.capacity = Math.max(n, Math.min(this.capacity * 2, 1024 * 1024));
      this.buf = Buffer.allocUnsafe(this.capacity);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private flushScratch(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushed += this.pos;
    this.buf = this.buf.subarray(this.pos);
    this.pos = 0;
  }

  int8(value: number): void {
    const at = this.room(1);
    this.buf.writeInt8(value, at);
  }

  int16(value: number): void {
    const at = this.room(2);
    this.buf.writeInt16BE(value, at);
  }

  uint16(value: number): void {
    const at = this.room(2);
    this.buf.writeUInt16BE(value, at);
  }

  int32(value: number): void {
    const at = this.room(4);
    this.buf.writeInt32BE(value, at);
  }

  uint32(value: number): void {
    const at = this.room(4);
    this.buf.writeUInt32BE(value, at);
  }

  int64(value: number): void {
    const at = this.room(8);
    this.buf.writeBigInt64BE(BigInt(value), at);
  }

  float64(value: number): void {
    const at = this.room(8);
    this.buf.writeDoubleBE(value, at);
  }

  bool(value: boolean): void {
    const at = this.room(1);
    this.buf[at] = value ? 1 : 0;
  }

  uuid(value: Uint8Array): void {
    if (value.length !== 16) throw new RangeError(`a uuid has 16 bytes, got ${value.length}`);
    this.raw(value);
  }

  uvarint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      const at = this.room(1);
      this.buf[at] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    const at = this.room(1);
    this.buf[at] = v;
  }

  private prefix(length: number, compact: boolean, wide: boolean): void {
    if (compact) this.uvarint(length + 1);
    else if (wide) this.int32(length);
    else this.int16(length);
  }

  string(value: string, compact: boolean): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.prefix(length, compact, false);
    const at = this.room(length);
    this.buf.write(value, at, length, 'utf8');
  }

  nullableString(value: string | null, compact: boolean): void {
    if (value === null) this.prefix(-1, compact, false);
    else this.string(value, compact);
  }

  bytes(value: Uint8Array, compact: boolean): void {
    this.prefix(value.length, compact, true);
    this.raw(value);
  }

  nullableBytes(value: Uint8Array | null, compact: boolean): void {
    if (value === null) this.prefix(-1, compact, true);
    else this.bytes(value, compact);
  }

  arrayLength(length: number, compact: boolean): void {
    this.prefix(length, compact, true);
  }

  /** Appends bytes: copied when small, kept as a chunk of their own when large. */
  raw(value: Uint8Array): void {
    if (value.length >= ZERO_COPY_BYTES) {
      this.flushScratch();
      this.chunks.push(Buffer.from(value.buffer, value.byteOffset, value.length));
      this.flushed += value.length;
      return;
    }
    const at = this.room(value.length);
    this.buf.set(value, at);
  }

  /** Appends everything another writer holds. */
  append(other: KafkaWriter): void {
    for (const chunk of other.finish()) this.raw(chunk);
  }

  /** The written bytes, as chunks in order. */
  finish(): Buffer[] {
    this.flushScratch();
    return this.chunks;
  }
}
