/**
 * Compression of a RecordBatch's records section.
 *
 * The codec lives in bits 0-2 of the batch attributes. Codec ids follow Kafka
 * (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd); StreamHouse reads and writes only
 * none and lz4, every other value is refused as corrupt.
 *
 * LZ4 payload: what `lz4-wasm-nodejs` `compress` produces, i.e. the
 * uncompressed length as a little-endian u32 followed by one LZ4 *block*
 * (not the LZ4 frame format Kafka uses, so an lz4 batch is not readable by
 * Kafka clients; uncompressed batches are).
 */
import { compress, decompress } from 'lz4-wasm-nodejs';
import { MAX_BATCH_SIZE } from './batchLayout.js';
import { CorruptMessageError } from '../errors.js';

/** How a batch's records section is compressed. */
export type CompressionCodec = 'none' | 'lz4';

/** Mask of the codec bits in the batch attributes. */
export const COMPRESSION_CODEC_MASK = 0x07;
/** Codec id of uncompressed records. */
export const CODEC_ID_NONE = 0;
/** Codec id of LZ4-compressed records. */
export const CODEC_ID_LZ4 = 3;

/** Size of the little-endian u32 that prefixes an LZ4 payload. */
export const LZ4_SIZE_PREFIX_BYTES = 4;

/**
 * Largest expansion of one LZ4 block: a match length grows by at most 255 per
 * input byte. A declared size above `255 * input` cannot be honest.
 */
const LZ4_MAX_RATIO = 255;

const KAFKA_CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The attributes codec id for a codec name. */
export function codecId(codec: CompressionCodec): number {
  return codec === 'lz4' ? CODEC_ID_LZ4 : CODEC_ID_NONE;
}

/** The codec named by batch `attributes`; throws CorruptMessageError for codecs other than none and lz4. */
export function codecFromAttributes(attributes: number): CompressionCodec {
  const id = attributes & COMPRESSION_CODEC_MASK;
  if (id === CODEC_ID_NONE) return 'none';
  if (id === CODEC_ID_LZ4) return 'lz4';
  const name = KAFKA_CODEC_NAMES[id] ?? 'reserved';
  throw new CorruptMessageError(`batch compression codec ${id} (${name}) is not supported; only none and lz4 are`);
}

/** LZ4-compresses `bytes` into a size-prefixed block (a new array). */
export function lz4Compress(bytes: Uint8Array): Uint8Array {
  return compress(bytes);
}

/**
 * Decompresses a size-prefixed LZ4 block. Checks the declared size against
 * `maxSize` and against what the input could possibly expand to BEFORE the
 * decompressor allocates it, and checks the result has exactly that size.
 * Every failure is a CorruptMessageError.
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
