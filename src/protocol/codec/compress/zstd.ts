/**
 * Zstandard decoding (Kafka codec 4) with fzstd, bounded: the frame headers
 * and block headers are walked first, so a declared content size over the
 * limit is refused before decoding, and a window over it (fzstd allocates
 * the window) is lowered to the limit, which no valid back-reference can
 * pass; the output is counted as it streams and refused once past the limit.
 */
import { Decompress } from 'fzstd';
import { CorruptMessageError } from '../../errors.js';

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames use magics 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Largest block content of any frame. */
const MAX_BLOCK = 128 * 1024;

/** Decodes every frame of `bytes`, never holding more than `maxSize` output bytes. */
export function zstdDecompress(bytes: Uint8Array, maxSize: number): Uint8Array {
  const windowBound = Math.max(maxSize, MAX_BLOCK);
  const lower = checkFrames(bytes, maxSize, windowBound);
  if (lower.length > 0) {
    bytes = bytes.slice();
    const descriptor = windowDescriptorFor(windowBound);
    for (const at of lower) bytes[at] = descriptor;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const decoder = new Decompress((chunk) => {
    total += chunk.length;
    if (total > maxSize) throw new CorruptMessageError(`zstd payload decompresses past ${maxSize} bytes`);
    // a small block keeps no large buffer alive
    chunks.push(chunk.length * 2 < chunk.buffer.byteLength ? chunk.slice() : chunk);
  });
  try {
    decoder.push(bytes, true);
  } catch (error) {
    if (error instanceof CorruptMessageError) throw error;
    throw new CorruptMessageError(`zstd payload does not decompress: ${(error as Error).message}`, { cause: error });
  }
  const result = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

/**
 * Walks frame and block headers: declared sizes and block sizes within
 * bounds. Returns where the window descriptors over `windowBound` are.
 */
function checkFrames(bytes: Uint8Array, maxSize: number, windowBound: number): number[] {
  const lower: number[] = [];
  const end = bytes.length;
  if (end === 0) throw corrupt('is empty');
  let pos = 0;
  while (pos < end) {
    if (end - pos < 8) throw corrupt('ends inside a frame header');
    const magic = u32le(bytes, pos);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
      pos += 8 + u32le(bytes, pos + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw corrupt('has no frame magic');
    const descriptor = bytes[pos + 4]!;
    const sizeFlag = descriptor >>> 6;
    const singleSegment = (descriptor >>> 5) & 1;
    if ((descriptor & 0x08) !== 0) throw corrupt('sets a reserved descriptor bit');
    if ((descriptor & 0x03) !== 0) throw corrupt('needs a dictionary');
    let p = pos + 5;
    let window = 0;
    if (!singleSegment) {
      const wd = bytes[p++]!;
      if (windowOf(wd) > windowBound) lower.push(p - 1);
      window = Math.min(windowOf(wd), windowBound);
    }
    const sizeBytes = sizeFlag ? 1 << sizeFlag : singleSegment;
    if (end - p < sizeBytes) throw corrupt('ends inside a frame header');
    let contentSize = 0;
    for (let i = 0; i < sizeBytes; i++) contentSize += bytes[p + i]! * 2 ** (8 * i);
    if (sizeFlag === 1) contentSize += 256;
    p += sizeBytes;
    if (singleSegment) window = contentSize;
    if (contentSize > maxSize) throw corrupt(`declares ${contentSize} bytes (limit ${maxSize})`);
    const blockMax = Math.min(MAX_BLOCK, Math.max(window, 1));
    for (;;) {
      if (end - p < 3) throw corrupt('ends inside a block header');
      const header = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16);
      p += 3;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw corrupt('has a reserved block type');
      if (size > blockMax) throw corrupt(`has a block of ${size} bytes over its maximum ${blockMax}`);
      p += type === 1 ? 1 : size;
      if (p > end) throw corrupt('ends inside a block');
      if (header & 1) break;
    }
    if ((descriptor >>> 2) & 1) p += 4;
    if (p > end) throw corrupt('ends inside its checksum');
    pos = p;
  }
  if (pos !== end) throw corrupt('ends inside a skippable frame');
  return lower;
}

/** Window size of a window descriptor byte. */
function windowOf(descriptor: number): number {
  const base = 2 ** (10 + (descriptor >>> 3));
  return base + (base / 8) * (descriptor & 7);
}

/** The descriptor of the smallest window of at least `size` bytes. */
function windowDescriptorFor(size: number): number {
  for (let descriptor = 0; descriptor < 256; descriptor++) if (windowOf(descriptor) >= size) return descriptor;
  return 255;
}

function corrupt(problem: string): CorruptMessageError {
  return new CorruptMessageError(`zstd payload ${problem}`);
}

function u32le(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}
