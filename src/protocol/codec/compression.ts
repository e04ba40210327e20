/**
 * Compression of a RecordBatch's records section.
 *
 * The codec lives in bits 0-2 of the batch attributes, with Kafka's ids
 * (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd); 5-7 are refused as corrupt.
 * Every codec encodes, and decodes bounded by a size limit.
 *
 * LZ4 is written in the LZ4 frame format Kafka clients read. Earlier versions
 * wrote a little-endian u32 uncompressed size followed by one LZ4 block
 * (what `lz4-wasm-nodejs` `compress` produces); such payloads still decode,
 * told apart by the frame magic (a size prefix that equals it would be over
 * MAX_BATCH_SIZE, so never valid).
 */
import { compress, decompress } from 'lz4-wasm-nodejs';
import { MAX_BATCH_SIZE } from './batchLayout.js';
import { CorruptMessageError } from '../errors.js';
import { gzipCompress, gzipDecompress } from './compress/gzip.js';
import { isLz4Frame, lz4FrameCompress, lz4FrameDecompress } from './compress/lz4Frame.js';
import { snappyDecompress } from './compress/snappy.js';
import { snappyCompress } from './compress/snappyCompress.js';
import { zstdDecompress } from './compress/zstd.js';
import { zstdCompress } from './compress/zstdCompress.js';

/** How a batch's records section is compressed. */
export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** The codecs our encoder writes. */
export const ENCODABLE_CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Mask of the codec bits in the batch attributes. */
export const COMPRESSION_CODEC_MASK = 0x07;
/** Codec id of uncompressed records. */
export const CODEC_ID_NONE = 0;
/** Codec id of LZ4-compressed records. */
export const CODEC_ID_LZ4 = 3;

/** Size of the little-endian u32 that prefixes a legacy LZ4 payload. */
export const LZ4_SIZE_PREFIX_BYTES = 4;

/**
 * Largest expansion of one LZ4 block: a match length grows by at most 255 per
 * input byte. A declared size above `255 * input` cannot be honest.
 */
const LZ4_MAX_RATIO = 255;

/** Codec names by attribute id. */
const CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The attributes codec id for a codec name. */
export function codecId(codec: CompressionCodec): number {
  return CODECS.indexOf(codec);
}

/** The codec named by batch `attributes`; throws CorruptMessageError for the reserved ids 5-7. */
export function codecFromAttributes(attributes: number): CompressionCodec {
  const id = attributes & COMPRESSION_CODEC_MASK;
  const codec = CODECS[id];
  if (codec === undefined) throw new CorruptMessageError(`batch compression codec ${id} (reserved) is not supported`);
  return codec;
}

/** `bytes` compressed by `codec` (one of ENCODABLE_CODECS other than none), as a new array. */
export function compressRecords(codec: CompressionCodec, bytes: Uint8Array): Uint8Array {
  switch (codec) {
    case 'gzip':
      return gzipCompress(bytes);
    case 'snappy':
      return snappyCompress(bytes);
    case 'lz4':
      return lz4FrameCompress(bytes);
    case 'zstd':
      return zstdCompress(bytes);
    default:
      throw new CorruptMessageError(`compression ${codec} cannot be written`);
  }
}

/**
 * The records section `bytes` decompressed by `codec`, never allocating more
 * than `maxSize` output bytes. Every failure is a CorruptMessageError.
 */
export function decompressRecords(codec: CompressionCodec, bytes: Uint8Array, maxSize: number): Uint8Array {
  switch (codec) {
    case 'none':
      return bytes;
    case 'gzip':
      return gzipDecompress(bytes, maxSize);
    case 'snappy':
      return snappyDecompress(bytes, maxSize);
    case 'lz4':
      return isLz4Frame(bytes) ? lz4FrameDecompress(bytes, maxSize) : lz4Decompress(bytes, maxSize);
    case 'zstd':
      return zstdDecompress(bytes, maxSize);
  }
}

/** LZ4-compresses `bytes` into a legacy size-prefixed block (a new array). */
export function lz4Compress(bytes: Uint8Array): Uint8Array {
  return compress(bytes);
}

/**
 * Decompresses a legacy size-prefixed LZ4 block. Checks the declared size
 * against `maxSize` and against what the input could possibly expand to
 * BEFORE the decompressor allocates it, and checks the result has exactly
 * that size. Every failure is a CorruptMessageError.
 */
export function lz4Decompress(bytes: Uint8Array, maxSize: number = MAX_BATCH_SIZE): Uint8Array {
  if (bytes.length < LZ4_SIZE_PREFIX_BYTES) {
    throw new CorruptMessageError(`lz4 payload of ${bytes.length} bytes is shorter than its size prefix`);
  }
  const declared = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  const compressed = bytes.length - LZ4_SIZE_PREFIX_BYTES;
  if (declared > maxSize || declared > compressed * LZ4_MAX_RATIO) {
    throw new CorruptMessageError(
      `lz4 payload declares ${declared} bytes from ${compressed} compressed bytes (limit ${maxSize})`,
    );
  }
  let result: Uint8Array;
  try {
    result = decompress(bytes);
  } catch (error) {
    // the wasm binding throws plain strings
    throw new CorruptMessageError(`lz4 payload does not decompress: ${String(error)}`, { cause: error });
  }
  if (result.length !== declared) {
    throw new CorruptMessageError(`lz4 payload decompressed to ${result.length} bytes, declared ${declared}`);
  }
  return result;
}
