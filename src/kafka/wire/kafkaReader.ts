/**
 * Reads Kafka's primitive wire types from one received frame. Every length
 * and count is checked against the bytes left before anything is allocated,
 * so a hostile size never costs more than the frame it arrived in; a value
 * that breaks the grammar throws {@link KafkaDecodeError}.
 *
 * Bytes and records come back as views into the frame, not copies.
 */
export class KafkaDecodeError extends Error {
  override readonly name = 'KafkaDecodeError';
}

export class KafkaReader {
  /**
   * @param buf the frame
   * @param pos first byte to read
   * @param end one past the last readable byte
   */
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  private take(n: number): number {
    if (n < 0 || n > this.end - this.pos)
      throw new KafkaDecodeError(`${n} bytes needed at ${this.pos}, ${this.end - this.pos} left`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  /** int64 as a number; one beyond Number.MAX_SAFE_INTEGER is refused. */
  int64(): number {
    const value = this.buf.readBigInt64BE(this.take(8));
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new KafkaDecodeError(`int64 ${value} is beyond the safe integer range`);
    return n;
  }

  float64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  bool(): boolean {
    return this.buf[this.take(1)] !== 0;
  }

  uuid(): Buffer {
    const at = this.take(16);
    return Buffer.from(this.buf.subarray(at, at + 16));
  }

  /** Unsigned varint of at most 32 bits (lengths, counts, tags). */
  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buf[this.take(1)]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) break;
        return result;
      }
    }
    throw new KafkaDecodeError(`unsigned varint longer than 32 bits at ${this.pos}`);
  }

  /** A length: int16/int32 for classic types, uvarint - 1 for compact ones; -1 for null. */
  private length(compact: boolean, wide: boolean): number {
    if (compact) return this.uvarint() - 1;
    return wide ? this.int32() : this.int16();
  }

  private nonNull(length: number, what: string): number {
    if (length < 0) throw new KafkaDecodeError(`null ${what} where none is allowed`);
    return length;
  }

  string(compact: boolean): string {
    const length = this.nonNull(this.length(compact, false), 'string');
    const at = this.take(length);
    return this.buf.toString('utf8', at, at + length);
  }

  nullableString(compact: boolean): string | null {
    const length = this.length(compact, false);
    if (length < 0) return null;
    const at = this.take(length);
    return this.buf.toString('utf8', at, at + length);
  }

  bytes(compact: boolean): Buffer {
    const length = this.nonNull(this.length(compact, true), 'bytes');
    const at = this.take(length);
    return this.buf.subarray(at, at + length);
  }

  nullableBytes(compact: boolean): Buffer | null {
    const length = this.length(compact, true);
    if (length < 0) return null;
    const at = this.take(length);
    return this.buf.subarray(at, at + length);
  }

  /** An array's element count, -1 for null; never more than the bytes left (each element takes at least one). */
  arrayLength(compact: boolean, nullable: boolean): number {
    const length = this.length(compact, true);
    if (length < 0) {
      if (!nullable) throw new KafkaDecodeError('null array where none is allowed');
      return -1;
    }
    if (length > this.remaining) throw new KafkaDecodeError(`array of ${length} elements in ${this.remaining} bytes`);
    return length;
  }

  /** Reads a tagged-field section: `known(tag, reader)` reads a tag it knows and returns true; others are skipped. */
  taggedFields(known: (tag: number, reader: KafkaReader) => boolean): void {
    const count = this.uvarint();
    if (count > this.remaining) throw new KafkaDecodeError(`${count} tagged fields in ${this.remaining} bytes`);
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= previous) throw new KafkaDecodeError(`tagged field ${tag} out of order`);
      previous = tag;
      const size = this.uvarint();
      const at = this.take(size);
      const field = new KafkaReader(this.buf, at, at + size);
      if (known(tag, field) && field.pos !== field.end) {
        throw new KafkaDecodeError(`tagged field ${tag} holds ${field.end - field.pos} bytes more than its value`);
      }
    }
  }
}
