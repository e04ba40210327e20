/**
 * The LZ4 frame format (what Kafka clients write for codec 3): magic, a
 * descriptor with its xxHash32 check byte, blocks each prefixed by its size,
 * an end mark, and an optional content checksum.
 */
import { compress } from 'lz4-wasm-nodejs';
import { CorruptMessageError } from '../../errors.js';
import { BoundedOutput } from './boundedOutput.js';
import { decodeLz4Block } from './lz4Block.js';
import { xxhash32 } from './xxhash32.js';

/** 0x184D2204 as it appears first in a frame (little-endian). */
export const LZ4_FRAME_MAGIC = 0x184d2204;

/** Descriptor flags: version 01, independent blocks, no checksums, no content size. */
const WRITE_FLG = 0x60;
/** Block-maximum id 4: 64 KiB blocks, as Kafka's Java client writes them. */
const WRITE_BD = 0x40;
const WRITE_BLOCK_SIZE = 64 * 1024;
/** Size-field bit of a block stored uncompressed. */
const UNCOMPRESSED_BIT = 0x80000000;
/** Size prefix that lz4-wasm-nodejs puts before its block. */
const WASM_PREFIX = 4;

/** True when `bytes` start with the LZ4 frame magic. */
export function isLz4Frame(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && u32le(bytes, 0) === LZ4_FRAME_MAGIC;
}

/** `bytes` as one LZ4 frame of independent 64 KiB blocks. */
export function lz4FrameCompress(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new Uint8Array([0x04, 0x22, 0x4d, 0x18, WRITE_FLG, WRITE_BD, 0]);
  header[6] = (xxhash32(header, 4, 6) >>> 8) & 0xff;
  parts.push(header);
  let total = header.length + 4;
  for (let at = 0; at < bytes.length; at += WRITE_BLOCK_SIZE) {
    const chunk = bytes.subarray(at, Math.min(bytes.length, at + WRITE_BLOCK_SIZE));
    const block = compress(chunk).subarray(WASM_PREFIX);
    const stored = block.length < chunk.length ? block : chunk;
    const size = new Uint8Array(4);
    writeU32le(size, 0, stored === chunk ? (chunk.length | UNCOMPRESSED_BIT) >>> 0 : block.length);
    parts.push(size, stored);
    total += 4 + stored.length;
  }
  parts.push(new Uint8Array(4)); // end mark
  const frame = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.length;
  }
  return frame;
}

/**
 * Decodes exactly one LZ4 frame, never holding more than `maxSize` output
 * bytes; a declared content size over `maxSize` is refused before decoding.
 * @throws CorruptMessageError for any malformed frame, checksum mismatch or
 *   output past `maxSize`.
 */
export function lz4FrameDecompress(bytes: Uint8Array, maxSize: number): Uint8Array {
  const end = bytes.length;
  if (end < 7 || !isLz4Frame(bytes)) throw corrupt('does not start with a frame header');
  const flg = bytes[4]!;
  const bd = bytes[5]!;
  if (flg >>> 6 !== 1) throw corrupt(`has frame version ${flg >>> 6}; only 1 is defined`);
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw corrupt('sets reserved descriptor bits');
  if ((flg & 0x01) !== 0) throw corrupt('needs a dictionary');
  const blockChecksums = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockMaxId = (bd >>> 4) & 7;
  if (blockMaxId < 4) throw corrupt(`has block maximum id ${blockMaxId}; ids 4 to 7 are defined`);
  const blockMax = 1 << (8 + 2 * blockMaxId);
  let pos = 6;
  let contentSize = -1;
  if (hasContentSize) {
    if (end < pos + 9) throw corrupt('ends inside its descriptor');
    const high = u32le(bytes, pos + 4);
    contentSize = high === 0 ? u32le(bytes, pos) : Number.POSITIVE_INFINITY;
    if (contentSize > maxSize) throw corrupt(`declares ${contentSize} bytes (limit ${maxSize})`);
    pos += 8;
  }
  if (((xxhash32(bytes, 4, pos) >>> 8) & 0xff) !== bytes[pos]) throw corrupt('has a wrong descriptor checksum');
  pos++;
  const out = new BoundedOutput(maxSize, 'lz4', contentSize >= 0 ? contentSize : Math.min(blockMax, end * 4));
  for (;;) {
    if (end - pos < 4) throw corrupt('ends before its end mark');
    const field = u32le(bytes, pos);
    pos += 4;
    if (field === 0) break;
    const size = field & 0x7fffffff;
    if (size > blockMax) throw corrupt(`has a block of ${size} bytes over its maximum ${blockMax}`);
    if (end - pos < size + (blockChecksums ? 4 : 0)) throw corrupt('ends inside a block');
    if (blockChecksums && xxhash32(bytes, pos, pos + size) !== u32le(bytes, pos + size)) {
      throw corrupt('has a wrong block checksum');
    }
    const blockStart = out.length;
    if ((field & UNCOMPRESSED_BIT) !== 0) out.append(bytes, pos, pos + size);
    else decodeLz4Block(bytes, pos, pos + size, out, 0);
    if (out.length - blockStart > blockMax) throw corrupt(`has a block decoding past its maximum ${blockMax}`);
    pos += size + (blockChecksums ? 4 : 0);
  }
  const result = out.result();
  if (contentChecksum) {
    if (end - pos < 4) throw corrupt('ends inside its content checksum');
    if (xxhash32(result) !== u32le(bytes, pos)) throw corrupt('has a wrong content checksum');
    pos += 4;
  }
  if (pos !== end) throw corrupt(`has ${end - pos} bytes after its end`);
  if (contentSize >= 0 && result.length !== contentSize) {
    throw corrupt(`decoded to ${result.length} bytes, declared ${contentSize}`);
  }
  return result;
}

function corrupt(problem: string): CorruptMessageError {
  return new CorruptMessageError(`lz4 frame ${problem}`);
}

function u32le(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function writeU32le(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}
