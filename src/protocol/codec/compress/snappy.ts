/**
 * Snappy decoding: raw snappy blocks (librdkafka, KafkaJS) and Kafka's
 * xerial framing (the Java client: a magic header, then blocks each prefixed
 * by a big-endian int32 length). Every block declares its decoded size,
 * which is checked against the limit before it is decoded.
 */
import { CorruptMessageError } from '../../errors.js';
import { BoundedOutput } from './boundedOutput.js';

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
/** Magic, version and compatible version. */
const XERIAL_HEADER_BYTES = 16;

/** Decodes raw or xerial-framed snappy, never holding more than `maxSize` output bytes. */
export function snappyDecompress(bytes: Uint8Array, maxSize: number): Uint8Array {
  const out = new BoundedOutput(maxSize, 'snappy', 0);
  if (!isXerial(bytes)) {
    decodeRawBlock(bytes, 0, bytes.length, out);
    return out.result();
  }
  let pos = XERIAL_HEADER_BYTES;
  while (pos < bytes.length) {
    if (bytes.length - pos < 4) throw new CorruptMessageError('snappy xerial block ends inside its length');
    const length = new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getInt32(0);
    pos += 4;
    if (length < 0 || length > bytes.length - pos) {
      throw new CorruptMessageError(`snappy xerial block of ${length} bytes with ${bytes.length - pos} left`);
    }
    decodeRawBlock(bytes, pos, pos + length, out);
    pos += length;
  }
  return out.result();
}

function isXerial(bytes: Uint8Array): boolean {
  if (bytes.length < XERIAL_HEADER_BYTES) return false;
  return XERIAL_MAGIC.every((byte, i) => bytes[i] === byte);
}

/** Decodes one raw snappy block `source[start, end)` onto `out`. */
function decodeRawBlock(source: Uint8Array, start: number, end: number, out: BoundedOutput): void {
  let ip = start;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (ip >= end || shift > 28) throw new CorruptMessageError('snappy block has a malformed length');
    const byte = source[ip++]!;
    declared += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (declared > out.limit - out.length) {
    throw new CorruptMessageError(`snappy block declares ${declared} bytes (limit ${out.limit})`);
  }
  out.reserve(declared);
  const floor = out.length;
  while (ip < end) {
    const tag = source[ip++]!;
    let length: number;
    let distance: number;
    switch (tag & 3) {
      case 0: {
        length = tag >>> 2;
        if (length >= 60) {
          const width = length - 59;
          if (end - ip < width) throw new CorruptMessageError('snappy literal length runs past the block');
          length = 0;
          for (let i = 0; i < width; i++) length += source[ip + i]! * 2 ** (8 * i);
          ip += width;
        }
        length += 1;
        if (length > end - ip) throw new CorruptMessageError('snappy literal runs past the block');
        if (length > declared - (out.length - floor)) throw overrun(declared);
        out.append(source, ip, ip + length);
        ip += length;
        continue;
      }
      case 1:
        if (ip >= end) throw new CorruptMessageError('snappy copy runs past the block');
        length = ((tag >>> 2) & 7) + 4;
        distance = ((tag >>> 5) << 8) | source[ip++]!;
        break;
      case 2:
        if (end - ip < 2) throw new CorruptMessageError('snappy copy runs past the block');
        length = (tag >>> 2) + 1;
        distance = source[ip]! | (source[ip + 1]! << 8);
        ip += 2;
        break;
      default:
        if (end - ip < 4) throw new CorruptMessageError('snappy copy runs past the block');
        length = (tag >>> 2) + 1;
        distance = (source[ip]! | (source[ip + 1]! << 8) | (source[ip + 2]! << 16) | (source[ip + 3]! << 24)) >>> 0;
        ip += 4;
    }
    if (length > declared - (out.length - floor)) throw overrun(declared);
    out.copyBack(distance, length, floor);
  }
  if (out.length - floor !== declared) {
    throw new CorruptMessageError(`snappy block decoded to ${out.length - floor} bytes, declared ${declared}`);
  }
}

function overrun(declared: number): CorruptMessageError {
  return new CorruptMessageError(`snappy block decodes past its declared ${declared} bytes`);
}
