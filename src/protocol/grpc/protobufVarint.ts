/**
 * Protobuf's unsigned varints (lengths and tags below 2^32), for the
 * hand-written encoders that put large byte fields into a message without
 * copying them through protobufjs (fetchResponseEncoder, produceRequestEncoder).
 * Not the zigzag varints of RecordBatches (varint.ts).
 */

/** Bytes of `value` (an integer in [0, 2^32)) as a protobuf varint. */
export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest !== 0; rest >>>= 7) size++;
  return size;
}

/** Writes `value` (an integer in [0, 2^32)) at `position`; returns the position after it. */
export function writeVarint(target: Uint8Array, position: number, value: number): number {
  let rest = value >>> 0;
  while (rest > 0x7f) {
    target[position++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[position++] = rest;
  return position;
}
